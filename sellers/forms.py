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
