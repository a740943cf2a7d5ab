from django import forms


class PupilSearchForm(forms.Form):
    """The search box: Django's CharField refuses NUL characters and over-long text."""

    q = forms.CharField(max_length=100, required=False, strip=True)
