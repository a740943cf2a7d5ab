from rest_framework import serializers

from pupils.models import Pupil


class PupilSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pupil
        fields = ["id", "upn", "first_name", "last_name", "date_of_birth", "nc_year", "is_active", "school"]
        read_only_fields = fields


class PupilSearchRequestSerializer(serializers.Serializer):
    # DRF's CharField refuses NUL characters, like the browser form's.
    q = serializers.CharField(max_length=100, help_text="Part of a name, or a whole UPN.")
    page = serializers.IntegerField(min_value=1, default=1)


class PupilSearchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = PupilSerializer(many=True)
