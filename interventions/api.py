"""Interventions over the API: the catalogue, groups, enrolments, and sessions with their
attendance. The same scope, selectors and services as the browser: a group is reached only
through `groups_for` (a practitioner's own groups), a pupil only through the register's
selector, so ids of another school answer 404 in an address and 400 in a body
(SECURITY.md 1–2), and nothing is saved.

No cost or hourly rate is in any payload here: costs live in the provision-map API, which
practitioners cannot open.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from interventions import selectors, services
from interventions.models import Attendance, Enrolment, InterventionGroup, Provision, Session, StaffKind
from interventions.services import COUNTS, Mark
from pupils.codes import AreaOfNeed
from pupils.selectors import RegisterFilters, pupil_register
from pupils.serializers import as_drf_error
from schools.access import get_in_scope_or_404, get_named_in_body_or_400
from schools.api_auth import PupilLevel
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS, Role
from schools.tenancy import require_scope
from schools.terms import Term

BIG_ID = 2**63 - 1


def _id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=BIG_ID, **kwargs)


def _raise(exc: DjangoValidationError):
    raise as_drf_error(exc) from None


class WritesFor(PupilLevel):
    """Reading needs pupil-level access; writing needs one of `writers`."""

    writers = RECORD_KEEPERS
    message = "Only a SENCO or headteacher can change this."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS or require_scope().role in self.writers:
            return True
        audit(
            request._request,
            Action.DENIED,
            object_type="interventions",
            detail={"reason": "role", "write": True},
        )
        return False


class SessionWrites(WritesFor):
    writers = frozenset({*RECORD_KEEPERS, Role.PRACTITIONER})
    message = "Only the staff who run a group, a SENCO or a headteacher can record its sessions."


# --- the catalogue --------------------------------------------------------------------------

PROVISION_OUT = ["id", "school", "library_item", *services.PROVISION_EDITABLE, "ratio", "created_at"]


class CatalogueProvisionSerializer(serializers.ModelSerializer):
    ratio = serializers.CharField(read_only=True, help_text="Staff to pupils, e.g. 1:6.")

    class Meta:
        model = Provision
        fields = PROVISION_OUT
        read_only_fields = PROVISION_OUT
        # Read-only fields drop the model's blank=True; put it back so the schema allows "".
        extra_kwargs = {"measure": {"allow_blank": True}}


class CatalogueProvisionWrite(serializers.ModelSerializer):
    """A provision's fields; on POST, `library_item` copies a library entry first (the fields
    given then change the copy)."""

    library_item = _id(required=False, write_only=True, help_text="A library entry of your LA to copy.")

    class Meta:
        model = Provision
        fields = ["library_item", *services.PROVISION_EDITABLE]
        extra_kwargs = {"name": {"required": False}, "description": {"max_length": 4000}}
        validators: list = []  # a name once per school: the service says so in words

    def validate(self, attrs):
        if not self.partial and not attrs.get("library_item") and not attrs.get("name"):
            raise serializers.ValidationError(
                {"name": ["Give the provision a name, or a library_item to copy."]}
            )
        return attrs


class CatalogueQuery(serializers.Serializer):
    school = _id(required=False, help_text="Narrows to one school you may read; never widens.")
    area_of_need = serializers.ChoiceField(choices=AreaOfNeed.choices, required=False)
    step = serializers.IntegerField(required=False, min_value=1, max_value=6, help_text="Wave or step.")
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class ProvisionList(generics.GenericAPIView):
    """The school's catalogue of provisions. POST adds one, from scratch or copied from the
    LA's library (`library_item`)."""

    permission_classes = [WritesFor]
    serializer_class = CatalogueProvisionSerializer

    @extend_schema(parameters=[CatalogueQuery], responses=CatalogueProvisionSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = CatalogueQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        qs = selectors.provision_catalogue(require_scope())
        if q.get("school"):
            qs = qs.filter(school_id=q["school"])
        if q.get("area_of_need"):
            qs = qs.filter(area_of_need=q["area_of_need"])
        if q.get("step"):
            qs = qs.filter(step_number=q["step"])
        if q.get("active") is not None:
            qs = qs.filter(is_active=q["active"])
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(CatalogueProvisionSerializer(page, many=True).data)

    @extend_schema(request=CatalogueProvisionWrite, responses={201: CatalogueProvisionSerializer})
    def post(self, request: Request) -> Response:
        form = CatalogueProvisionWrite(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        item_id = data.pop("library_item", None)
        school = request._request.membership.school
        try:
            if item_id:
                item = get_named_in_body_or_400(
                    request._request,
                    selectors.library_for(require_scope()),
                    item_id,
                    field="library_item",
                    message="There is no such entry in your local authority's library.",
                )
                provision = services.provision_add_from_library(
                    request=request._request, school=school, item=item, overrides=data
                )
            else:
                provision = services.provision_create(request=request._request, school=school, data=data)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(CatalogueProvisionSerializer(provision).data, status=status.HTTP_201_CREATED)


class ProvisionDetail(generics.GenericAPIView):
    permission_classes = [WritesFor]
    serializer_class = CatalogueProvisionSerializer

    def _provision(self, request: Request, pk: int) -> Provision:
        return get_in_scope_or_404(request._request, selectors.provision_catalogue(require_scope()), pk)

    @extend_schema(responses=CatalogueProvisionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(CatalogueProvisionSerializer(self._provision(request, pk)).data)

    @extend_schema(request=CatalogueProvisionWrite, responses=CatalogueProvisionSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        provision = self._provision(request, pk)
        form = CatalogueProvisionWrite(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        data = {k: v for k, v in form.validated_data.items() if k != "library_item"}
        try:
            services.provision_update(request=request._request, provision=provision, data=data)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(CatalogueProvisionSerializer(self._provision(request, pk)).data)


# --- groups ---------------------------------------------------------------------------------


class StaffMember(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GroupSerializer(serializers.ModelSerializer):
    provision_name = serializers.CharField(source="provision.name", read_only=True)
    ratio = serializers.CharField(read_only=True, help_text="Staff to pupils, e.g. 1:6.")
    staff = serializers.SerializerMethodField()
    pupils = serializers.IntegerField(source="n_pupils", read_only=True, help_text="Pupils enrolled.")
    sessions = serializers.IntegerField(source="n_sessions", read_only=True, help_text="Sessions recorded.")

    class Meta:
        model = InterventionGroup
        fields = [
            "id",
            "school",
            "provision",
            "provision_name",
            "name",
            "lead",
            "staff",
            *services.DELIVERY_FIELDS,
            "ratio",
            "schedule",
            "academic_year",
            "term",
            "starts_on",
            "ends_on",
            "weeks",
            "pupils",
            "sessions",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"term": {"allow_blank": True}}  # "" is the whole year

    @extend_schema_field(StaffMember(many=True))
    def get_staff(self, group: InterventionGroup) -> list[dict]:
        return [{"id": link.user_id, "name": str(link.user)} for link in group.staff_links.all()]


class GroupWrite(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    schedule = serializers.CharField(max_length=200, required=False, allow_blank=True)
    academic_year = serializers.IntegerField(
        required=False, min_value=2000, max_value=2100, help_text="The year the school year starts in."
    )
    term = serializers.ChoiceField(
        choices=[("", "Whole year"), *Term.choices], required=False, allow_blank=True
    )
    starts_on = serializers.DateField(required=False, help_text="Left out: the term's (or year's) first day.")
    ends_on = serializers.DateField(required=False, help_text="Left out: the term's (or year's) last day.")
    weeks = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.5"),
        max_value=Decimal(52),
        required=False,
        allow_null=True,
        help_text="Left out: the school weeks between the dates, at most the LA's costing year.",
    )
    lead = _id(required=False, allow_null=True, help_text="A member of staff of the school.")
    staff = serializers.ListField(child=_id(), required=False, max_length=30, help_text="Staff who run it.")
    staff_kind = serializers.ChoiceField(choices=StaffKind.choices, required=False)
    staff_count = serializers.IntegerField(required=False, min_value=1, max_value=20)
    group_size = serializers.IntegerField(required=False, min_value=1, max_value=60)
    session_minutes = serializers.IntegerField(required=False, min_value=5, max_value=480)
    sessions_per_week = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=Decimal("0.1"), max_value=Decimal(25), required=False
    )


class GroupCreate(GroupWrite):
    provision = _id(help_text="A provision of the school's catalogue.")


class GroupQuery(serializers.Serializer):
    school = _id(required=False, help_text="Narrows to one school you may read; never widens.")
    provision = _id(required=False)
    pupil = _id(required=False, help_text="Groups the pupil is (or was) enrolled in.")
    academic_year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    term = serializers.ChoiceField(choices=Term.choices, required=False)
    current = serializers.BooleanField(required=False, allow_null=True, default=None)


def _groups():
    return selectors.group_list(require_scope(), today=timezone.localdate())


def _group_or_404(request: Request, pk: int) -> InterventionGroup:
    return get_in_scope_or_404(request._request, _groups(), pk)


def _group_named_or_400(request: Request, pk: int) -> InterventionGroup:
    """A group a request body names (SECURITY.md 2: another school's id is a 400)."""
    return get_named_in_body_or_400(
        request._request, _groups(), pk, field="group", message="There is no such group of yours."
    )


class GroupList(generics.GenericAPIView):
    """Groups, running ones first (a practitioner's: the ones they run). POST starts a group of
    a catalogue provision: figures left out come from the provision, dates from the LA's term
    dates, weeks from the school weeks between them."""

    permission_classes = [WritesFor]
    serializer_class = GroupSerializer

    @extend_schema(parameters=[GroupQuery], responses=GroupSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = GroupQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        qs = selectors.group_list(
            require_scope(),
            today=timezone.localdate(),
            academic_year=q.get("academic_year"),
            term=q.get("term"),
            provision_id=q.get("provision"),
            pupil_id=q.get("pupil"),
        )
        if q.get("school"):
            qs = qs.filter(school_id=q["school"])
        if q.get("current") is not None:
            qs = qs.filter(state=0) if q["current"] else qs.exclude(state=0)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(GroupSerializer(page, many=True).data)

    @extend_schema(request=GroupCreate, responses={201: GroupSerializer})
    def post(self, request: Request) -> Response:
        form = GroupCreate(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        provision = get_named_in_body_or_400(
            request._request,
            selectors.provision_catalogue(require_scope()),
            data.pop("provision"),
            field="provision",
            message="There is no such provision in your school's catalogue.",
        )
        lead, staff = data.pop("lead", None), data.pop("staff", [])
        try:
            group = services.group_create(
                request=request._request,
                school=request._request.membership.school,
                provision=provision,
                data=data,
                lead_id=lead,
                staff_ids=staff,
            )
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(
            GroupSerializer(_group_or_404(request, group.pk)).data, status=status.HTTP_201_CREATED
        )


class GroupDetail(generics.GenericAPIView):
    permission_classes = [WritesFor]
    serializer_class = GroupSerializer

    @extend_schema(responses=GroupSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(GroupSerializer(_group_or_404(request, pk)).data)

    @extend_schema(request=GroupWrite, responses=GroupSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        group = _group_or_404(request, pk)
        form = GroupWrite(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        kwargs = {}
        if "lead" in data:
            kwargs["lead_id"] = data.pop("lead")
        if "staff" in data:
            kwargs["staff_ids"] = data.pop("staff")
        try:
            services.group_update(request=request._request, group=group, data=data, **kwargs)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(GroupSerializer(_group_or_404(request, pk)).data)


# --- enrolments -----------------------------------------------------------------------------


class EnrolmentSerializer(serializers.ModelSerializer):
    counts_as_strategy = serializers.SerializerMethodField(
        help_text="Counts as a strategy tried at the pupil's step (reviewed when the exit result is in)."
    )
    sessions_recorded = serializers.IntegerField(read_only=True)
    sessions_attended = serializers.IntegerField(read_only=True)
    attendance_rate = serializers.SerializerMethodField(help_text="Percent of recorded sessions attended.")

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "school",
            "group",
            "pupil",
            *services.ENROLMENT_EDITABLE,
            COUNTS,
            "strategy_tried",
            "sessions_recorded",
            "sessions_attended",
            "attendance_rate",
            "created_at",
        ]
        read_only_fields = fields

    def get_counts_as_strategy(self, e: Enrolment) -> bool:
        return e.strategy_tried_id is not None

    def get_attendance_rate(self, e: Enrolment) -> float | None:
        rate = selectors.attendance_rate(e.sessions_attended, e.sessions_recorded)
        return float(rate) if rate is not None else None


def _score(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("-99999.99"),
        required=False,
        allow_null=True,
        **kwargs,
    )


class EnrolmentWrite(serializers.Serializer):
    starts_on = serializers.DateField(
        required=False, allow_null=True, help_text="Left out: the group's start."
    )
    ends_on = serializers.DateField(required=False, allow_null=True, help_text="Only for a part-term place.")
    entry_score = _score()
    entry_on = serializers.DateField(required=False, allow_null=True)
    exit_score = _score()
    exit_on = serializers.DateField(
        required=False, allow_null=True, help_text="Left out with a result: today."
    )
    outcome_rating = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-2,
        max_value=2,
        help_text="−2 much worse … +2 much better.",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    counts_as_strategy = serializers.BooleanField(required=False)


class EnrolmentCreate(EnrolmentWrite):
    group = _id()
    pupil = _id()


class EnrolmentQuery(serializers.Serializer):
    school = _id(required=False, help_text="Narrows to one school you may read; never widens.")
    group = _id(required=False)
    pupil = _id(required=False)
    academic_year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    term = serializers.ChoiceField(choices=Term.choices, required=False)
    current = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="In the group today."
    )


def _enrolments():
    return selectors.enrolment_list(require_scope())


def _audit_list(request: Request, model: str, pupil_ids) -> None:
    audit(
        request._request,
        Action.LIST,
        object_type=model,
        detail={"shown": len(pupil_ids), "pupils": sorted(set(pupil_ids))},
    )


class EnrolmentList(generics.GenericAPIView):
    """Pupils' places in groups, with attendance; filter by group, pupil, year and term, or
    places current today. POST enrols a pupil of the school in a group."""

    permission_classes = [WritesFor]
    serializer_class = EnrolmentSerializer

    @extend_schema(parameters=[EnrolmentQuery], responses=EnrolmentSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = EnrolmentQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        qs = _enrolments()
        if q.get("school"):
            qs = qs.filter(school_id=q["school"])
        if q.get("group"):
            qs = qs.filter(group_id=q["group"])
        if q.get("pupil"):
            qs = qs.filter(pupil_id=q["pupil"])
        if q.get("academic_year"):
            qs = qs.filter(group__academic_year=q["academic_year"])
        if q.get("term"):
            qs = qs.filter(group__term=q["term"])
        if q.get("current") is not None:
            today = timezone.localdate()
            current = selectors.current_on(qs, today).filter(group__ends_on__gte=today)
            qs = current if q["current"] else qs.exclude(pk__in=current.values("pk"))
        page = self.paginate_queryset(qs)
        _audit_list(request, "interventions.enrolment", [e.pupil_id for e in page])
        return self.get_paginated_response(EnrolmentSerializer(page, many=True).data)

    @extend_schema(request=EnrolmentCreate, responses={201: EnrolmentSerializer})
    def post(self, request: Request) -> Response:
        form = EnrolmentCreate(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        group = _group_named_or_400(request, data.pop("group"))
        pupils = pupil_register(require_scope(), RegisterFilters(include_leavers=True))
        pupil = get_named_in_body_or_400(
            request._request,
            pupils,
            data.pop("pupil"),
            field="pupil",
            message="No pupil with this id is on your school's record.",
        )
        for field in ("exit_score", "exit_on", "outcome_rating"):
            if data.get(field) is not None:
                raise serializers.ValidationError(
                    {field: ["Record the exit result once the pupil is enrolled."]}
                )
        try:
            enrolment = services.enrolment_create(
                request=request._request,
                group=group,
                pupil=pupil,
                starts_on=data.get("starts_on"),
                ends_on=data.get("ends_on"),
                entry_score=data.get("entry_score"),
                entry_on=data.get("entry_on"),
                note=data.get("note", ""),
                counts_as_strategy=data.get(COUNTS, False),
            )
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(
            EnrolmentSerializer(_enrolments().get(pk=enrolment.pk)).data, status=status.HTTP_201_CREATED
        )


class EnrolmentDetail(generics.GenericAPIView):
    """One place in a group. PATCH changes its dates, entry and exit results (an exit score or
    an outcome rating), note, and whether it counts as a strategy tried."""

    permission_classes = [WritesFor]
    serializer_class = EnrolmentSerializer

    @extend_schema(responses=EnrolmentSerializer)
    def get(self, request: Request, pk: int) -> Response:
        enrolment = get_in_scope_or_404(request._request, _enrolments(), pk)
        audit(
            request._request,
            Action.VIEW,
            enrolment.pupil,
            detail={"part": "enrolment", "enrolment": enrolment.pk},
        )
        return Response(EnrolmentSerializer(enrolment).data)

    @extend_schema(request=EnrolmentWrite, responses=EnrolmentSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        enrolment = get_in_scope_or_404(request._request, _enrolments(), pk)
        form = EnrolmentWrite(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        counts = data.pop(COUNTS, None)
        try:
            services.enrolment_update(
                request=request._request, enrolment=enrolment, data=data, counts_as_strategy=counts
            )
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(EnrolmentSerializer(_enrolments().get(pk=pk)).data)


# --- sessions and attendance ----------------------------------------------------------------


class AttendanceSerializer(serializers.ModelSerializer):
    pupil = serializers.IntegerField(source="enrolment.pupil_id", read_only=True)

    class Meta:
        model = Attendance
        fields = ["id", "enrolment", "pupil", "present", "note"]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    attendance = AttendanceSerializer(many=True, read_only=True)

    class Meta:
        model = Session
        fields = ["id", "school", "group", "held_on", "notes", "recorded_by", "recorded_at", "attendance"]
        read_only_fields = fields


class MarkWrite(serializers.Serializer):
    enrolment = _id(required=False, help_text="The pupil's place in the group…")
    pupil = _id(required=False, help_text="…or the pupil.")
    present = serializers.BooleanField()
    note = serializers.CharField(max_length=services.NOTE_LIMIT, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if not attrs.get("enrolment") and not attrs.get("pupil"):
            raise serializers.ValidationError("Name the pupil's enrolment or the pupil.")
        return attrs


class SessionWrite(serializers.Serializer):
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    attendance = MarkWrite(many=True, required=False, default=list, max_length=200)


class SessionCreate(SessionWrite):
    group = _id()
    held_on = serializers.DateField()


class SessionQuery(serializers.Serializer):
    school = _id(required=False, help_text="Narrows to one school you may read; never widens.")
    group = _id(required=False)
    pupil = _id(required=False, help_text="Sessions of the groups the pupil is in.")
    from_ = serializers.DateField(required=False, help_text="Held on or after.")
    to = serializers.DateField(required=False, help_text="Held on or before.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


def _marks(group: InterventionGroup, held_on, items: list[dict]) -> dict[int, Mark]:
    """Attendance by enrolment id; a pupil is matched to their place in the group that day."""
    current = list(selectors.enrolments_current_on(group, held_on))
    by_pupil = {e.pupil_id: e.pk for e in current}
    marks: dict[int, Mark] = {}
    for item in items:
        pk = item.get("enrolment") or by_pupil.get(item.get("pupil"))
        if pk is None:
            raise serializers.ValidationError(
                {"attendance": [f"Pupil {item.get('pupil')} is not in this group on {held_on:%d/%m/%Y}."]}
            )
        if pk in marks:
            raise serializers.ValidationError({"attendance": ["Each pupil once, please."]})
        marks[pk] = Mark(present=item["present"], note=item.get("note", "").strip())
    return marks


def _sessions():
    return selectors.session_list(require_scope())


class SessionList(generics.GenericAPIView):
    """Sessions of the groups you may open, latest first, with attendance. POST records a
    session: every pupil in the group that day gets a row (those not listed are recorded
    absent); posting a day already recorded changes it (200 rather than 201)."""

    permission_classes = [SessionWrites]
    serializer_class = SessionSerializer

    @extend_schema(parameters=[SessionQuery], responses=SessionSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = SessionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        qs = _sessions()
        if q.get("school"):
            qs = qs.filter(school_id=q["school"])
        if q.get("group"):
            qs = qs.filter(group_id=q["group"])
        if q.get("pupil"):
            qs = qs.filter(group__enrolments__pupil_id=q["pupil"])
        if q.get("from"):
            qs = qs.filter(held_on__gte=q["from"])
        if q.get("to"):
            qs = qs.filter(held_on__lte=q["to"])
        page = self.paginate_queryset(qs)
        _audit_list(
            request, "interventions.session", [a.enrolment.pupil_id for s in page for a in s.attendance.all()]
        )
        return self.get_paginated_response(SessionSerializer(page, many=True).data)

    @extend_schema(request=SessionCreate, responses={201: SessionSerializer, 200: SessionSerializer})
    def post(self, request: Request) -> Response:
        form = SessionCreate(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        group = _group_named_or_400(request, data["group"])
        try:
            session, made = services.session_record(
                request=request._request,
                group=group,
                held_on=data["held_on"],
                notes=data["notes"],
                marks=_marks(group, data["held_on"], data["attendance"]),
            )
        except DjangoValidationError as exc:
            _raise(exc)
        body = SessionSerializer(_sessions().get(pk=session.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if made else status.HTTP_200_OK)


class SessionPatch(serializers.Serializer):
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    attendance = MarkWrite(many=True, required=False, max_length=200)


class SessionDetail(generics.GenericAPIView):
    """One session with its attendance. PATCH changes its note and the attendance of the
    pupils listed; the others keep what was recorded."""

    permission_classes = [SessionWrites]
    serializer_class = SessionSerializer

    @extend_schema(responses=SessionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        session = get_in_scope_or_404(request._request, _sessions(), pk)
        _audit_list(
            request, "interventions.session", [a.enrolment.pupil_id for a in session.attendance.all()]
        )
        return Response(SessionSerializer(session).data)

    @extend_schema(request=SessionPatch, responses=SessionSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        session = get_in_scope_or_404(request._request, _sessions(), pk)
        form = SessionPatch(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        group = _group_or_404(request, session.group_id)
        try:
            services.session_record(
                request=request._request,
                group=group,
                held_on=session.held_on,
                notes=data.get("notes", session.notes),
                marks=_marks(group, session.held_on, data.get("attendance", [])),
                keep_unmarked=True,
            )
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(SessionSerializer(_sessions().get(pk=pk)).data)
