from django import forms

from sellers.models import SellerBranding
from sellers.services import seller_branding_errors

BRANDING_FIELDS = [
    "logo_url", "primary_color", "accent_color", "message", "store_url", "contact_url",
    "returns_url",
]  # fmt: skip


class BrandingForm(forms.Form):
    """The seller's own branding; every rule (contrast, https) is the service's, shown at the
    field it concerns."""

    logo_url = forms.CharField(required=False, max_length=500, label="Logo (https URL)")
    primary_color = forms.CharField(required=False, max_length=7, label="Primary colour (#RRGGBB)")
    accent_color = forms.CharField(required=False, max_length=7, label="Accent colour (#RRGGBB)")
    message = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              label="Message to buyers")  # fmt: skip
    store_url = forms.CharField(required=False, max_length=500, label="Store link (https)")
    contact_url = forms.CharField(required=False, max_length=500, label="Contact link (https)")
    returns_url = forms.CharField(required=False, max_length=500, label="Returns link (https)")

    @classmethod
    def for_branding(cls, branding: SellerBranding | None, data=None) -> "BrandingForm":
        initial = {name: getattr(branding, name, "") for name in BRANDING_FIELDS}
        return cls(data=data, initial=initial)

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned.get(name, "") or "" for name in BRANDING_FIELDS}
        for field, message in seller_branding_errors(**values).items():
            self.add_error(field, message)
        return cleaned


def carrier_choices() -> list[tuple[str, str]]:
    from tracking import carriers
    from tracking.models import OTHER_CARRIER

    adapters = [(a.slug, a.name) for a in carriers.all_adapters() if a.number_patterns]
    return [*sorted(adapters, key=lambda c: c[1]), (OTHER_CARRIER, "Other courier")]


class ShipmentConfirmForm(forms.Form):
    order = forms.CharField(max_length=64, label="Order reference")
    carrier = forms.ChoiceField(choices=carrier_choices, label="Courier")
    tracking_number = forms.CharField(max_length=80, label="Tracking number")
    carrier_name = forms.CharField(
        max_length=100, required=False, label="Courier name (other courier only)"
    )


class TrackingUploadForm(forms.Form):
    file = forms.FileField(label="CSV file (order, carrier, tracking_number)")
