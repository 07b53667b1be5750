from django import forms

from returns.models import Condition, Reason, Resolution, ReturnPolicy, ShippingPayer
from returns.services import MAX_PHOTOS, MAX_WINDOW_DAYS, PolicyValues, return_policy_errors


class PolicyForm(forms.Form):
    """A seller's return rules; every rule is the service's, shown at the field it concerns."""

    accepts_returns = forms.BooleanField(required=False, label="Accept returns")
    window_days = forms.IntegerField(min_value=1, max_value=MAX_WINDOW_DAYS,
                                     label="Return window (days after delivery)")  # fmt: skip
    allowed_reasons = forms.MultipleChoiceField(
        required=False, choices=Reason.choices, widget=forms.CheckboxSelectMultiple,
        label="Reasons accepted",
    )  # fmt: skip
    allowed_conditions = forms.MultipleChoiceField(
        required=False, choices=Condition.choices, widget=forms.CheckboxSelectMultiple,
        label="Item conditions accepted",
    )  # fmt: skip
    shipping_paid_by = forms.ChoiceField(choices=ShippingPayer.choices, widget=forms.RadioSelect,
                                         label="Return shipping")  # fmt: skip
    requires_description = forms.BooleanField(
        required=False, label="The buyer must describe the problem"
    )
    min_photos = forms.IntegerField(min_value=0, max_value=MAX_PHOTOS,
                                    label="Photos the buyer must add")  # fmt: skip
    resolutions = forms.MultipleChoiceField(
        required=False, choices=Resolution.choices, widget=forms.CheckboxSelectMultiple,
        label="What the buyer may ask for",
    )  # fmt: skip

    FIELDS = list(PolicyValues.__dataclass_fields__)

    @classmethod
    def for_policy(cls, policy: ReturnPolicy, data=None) -> "PolicyForm":
        return cls(data=data, initial={name: getattr(policy, name) for name in cls.FIELDS})

    def values(self) -> PolicyValues:
        return PolicyValues(**{name: self.cleaned_data.get(name) for name in self.FIELDS})

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            for field, message in return_policy_errors(self.values()).items():
                self.add_error(field, message)
        return cleaned


class RefuseForm(forms.Form):
    reason = forms.CharField(max_length=500, label="Why (the buyer reads it)")


class TrackingNumberForm(forms.Form):
    tracking_number = forms.CharField(max_length=64, label="Return tracking number")
