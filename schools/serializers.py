from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from schools.models import BehaviourProvision, Membership, School, User


class ScopeSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    urn = serializers.CharField(required=False)


class MembershipSerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "role", "scope"]

    @extend_schema_field(ScopeSerializer)
    def get_scope(self, m: Membership) -> dict:
        obj = m.scope_object
        data = {"type": m.scope_type, "id": obj.pk if obj is not None else None, "name": m.scope_name}
        if isinstance(obj, School):
            data["urn"] = obj.urn
        return ScopeSerializer(data).data


class MeSerializer(serializers.ModelSerializer):
    memberships = serializers.SerializerMethodField()
    active_membership_id = serializers.SerializerMethodField()
    two_factor_required = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "memberships",
            "active_membership_id",
            "two_factor_required",
        ]

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user: User) -> list[dict]:
        return MembershipSerializer(self.context["memberships"], many=True).data

    def get_active_membership_id(self, user: User) -> int | None:
        m = self.context.get("membership")
        return m.pk if m is not None else None

    def get_two_factor_required(self, user: User) -> bool:
        return bool(self.context.get("two_factor_required"))


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(max_length=12, required=False, allow_blank=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class SchoolSerializer(serializers.ModelSerializer):
    local_authority = serializers.CharField(source="local_authority.name")
    partnership = serializers.CharField(source="partnership.name", allow_null=True, default=None)

    class Meta:
        model = School
        fields = ["id", "urn", "name", "phase", "key_stages", "local_authority", "partnership"]


class ProvisionSerializer(serializers.ModelSerializer):
    host_school = serializers.CharField(source="host_school.name")
    partnership = serializers.CharField(source="partnership.name")

    class Meta:
        model = BehaviourProvision
        fields = ["id", "name", "host_school", "partnership", "places"]
