from rest_framework import serializers

from pupils.models import Pupil


class PupilSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pupil
        fields = ["id", "upn", "first_name", "last_name", "date_of_birth", "nc_year", "is_active", "school"]
        read_only_fields = fields
