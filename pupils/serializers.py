from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from pupils.models import (
    PLACEMENT_WITHHELD,
    AssessmentScore,
    OutcomeRecord,
    Pupil,
    SenStatusChange,
    validate_upn,
)
from schools.models import Role
from schools.tenancy import current_scope

PUPIL_FIELDS = [
    "upn",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "gender",
    "nc_year",
    "ethnicity",
    "fsm",
    "pupil_premium",
    "eal",
    "looked_after",
    "sen_status",
    "primary_need",
    "secondary_need",
    "is_active",
    "left_on",
]


class PupilSerializer(serializers.ModelSerializer):
    area_of_need = serializers.CharField(read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        scope = current_scope()
        if scope is not None and scope.role == Role.PROVISION_LEAD:
            # What a placement needs: the census extras stay with the home school.
            for name in PLACEMENT_WITHHELD:
                data.pop(name, None)
        return data

    class Meta:
        model = Pupil
        fields = ["id", "school", *PUPIL_FIELDS, "area_of_need", "created_at", "updated_at"]
        read_only_fields = ["id", "school", "area_of_need", "created_at", "updated_at"]
        # The (school, UPN) rule is checked by the service inside the caller's school only.
        validators: list = []


class PupilWriteSerializer(serializers.ModelSerializer):
    """What a client may send. The school is never taken from the body (SECURITY.md 2)."""

    sen_change_date = serializers.DateField(
        required=False,
        write_only=True,
        help_text="When a change of SEN status or need took effect (default today).",
    )

    class Meta:
        model = Pupil
        fields = [*PUPIL_FIELDS, "sen_change_date"]
        validators: list = []

    def validate_upn(self, value: str) -> str:
        return validate_upn(value)  # the compact, upper-case form is what is stored and compared

    def to_internal_value(self, data):
        if hasattr(data, "keys") and "school" in data:
            raise serializers.ValidationError(
                {"school": ["The school comes from your membership, not the request."]}
            )
        return super().to_internal_value(data)


class SenHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = SenStatusChange
        fields = ["id", "status", "primary_need", "secondary_need", "start_date", "recorded_at", "source"]


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutcomeRecord
        fields = [
            "id",
            "academic_year",
            "term",
            "attendance_pct",
            "suspensions",
            "suspension_days",
            "permanently_excluded",
            "recorded_at",
        ]
        read_only_fields = ["id", "recorded_at"]
        validators: list = []  # one record per term: recording again corrects it


class ScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssessmentScore
        fields = ["id", "measure", "measure_name", "assessed_on", "score"]
        read_only_fields = ["id"]


def as_drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    )


class PupilSearchRequestSerializer(serializers.Serializer):
    # DRF's CharField refuses NUL characters, like the browser form's.
    q = serializers.CharField(max_length=100, help_text="Part of a name, or a whole UPN.")
    page = serializers.IntegerField(min_value=1, default=1)


class PupilSearchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = PupilSerializer(many=True)
