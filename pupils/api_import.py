"""POST /api/v1/pupils/import/: preview or commit a MIS export, as the browser and the command do."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pupils.import_files import max_upload_bytes, too_big_message
from pupils.imports import (
    ImportPreview,
    ImportRejected,
    commit_import,
    preview_file,
)
from schools.api_auth import PupilLevel
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS
from schools.tenancy import require_scope


class MayImportPupils(PupilLevel):
    """Pupil-level access, and a SENCO's or headteacher's role."""

    message = "Only a SENCO or headteacher can import pupils."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if require_scope().role in RECORD_KEEPERS:
            return True
        audit(request._request, Action.DENIED, object_type="pupils.import", detail={"reason": "role"})
        return False


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV (UTF-8 or Windows-1252) or XLSX export with column headings in the first row."
    )
    commit = serializers.BooleanField(
        default=False, help_text="Save the pupils (all or nothing). Without it the file is only previewed."
    )


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number as the spreadsheet shows it; the heading is row 1.")
    upn = serializers.CharField()
    action = serializers.ChoiceField(choices=["create", "update", "unchanged", "error"])
    changed = serializers.ListField(child=serializers.CharField(), help_text="Fields an update changes.")
    problems = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    values = serializers.DictField(help_text="The row's cleaned values, by field name.")


class ImportCountsSerializer(serializers.Serializer):
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class ImportPreviewSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    file_errors = serializers.ListField(child=serializers.CharField())
    problems = serializers.ListField(child=serializers.CharField(), help_text="Every problem, file and rows.")
    counts = ImportCountsSerializer()
    columns = serializers.DictField(
        child=serializers.CharField(), help_text="Field name → the column heading it was read from."
    )
    ignored_columns = serializers.ListField(child=serializers.CharField())
    rows = ImportRowSerializer(many=True)


class ImportSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="UPN → the fields that changed."
    )


class PupilImport(APIView):
    """Preview a pupil file, or with `commit` save it, all or nothing. Pupils are matched by UPN
    within the caller's school; a UPN held by another school creates a new pupil here."""

    permission_classes = [MayImportPupils]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: ImportPreviewSerializer,
            201: ImportSummarySerializer,
            # The file's problems (a preview marked not valid), or the request's own: no file sent.
            400: OpenApiResponse(
                response={
                    "anyOf": [
                        {"$ref": "#/components/schemas/ImportPreview"},
                        {
                            "type": "object",
                            "properties": {
                                name: {"type": "array", "items": {"type": "string"}}
                                for name in ("file", "commit", "non_field_errors")
                            }
                            | {"detail": {"type": "string"}},
                            "additionalProperties": False,
                        },
                    ]
                },
                description="A preview that is not valid, or field errors.",
            ),
        },
        examples=[
            OpenApiExample(
                "A row with a wrong check letter",
                response_only=True,
                status_codes=["400"],
                value={
                    "valid": False,
                    "file_errors": [],
                    "problems": ["Row 7: UPN A90912342500Z is not valid – its check letter is wrong"],
                    "counts": {"create": 10, "update": 2, "unchanged": 40, "error": 1},
                    "columns": {"upn": "UPN", "last_name": "Legal Surname"},
                    "ignored_columns": [],
                    "rows": [],
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        form = ImportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        school = request._request.membership.school
        if upload.size > max_upload_bytes():
            # Refused before reading: a file over the cap never reaches the parser.
            too_big = ImportPreview(school_id=school.pk, file_errors=[too_big_message()])
            return Response(too_big.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        preview = preview_file(school=school, data=upload.read(), filename=upload.name)
        # A preview shows which pupils are on the register and how they differ: a read.
        audit(
            request._request, Action.LIST, object_type="pupils.import", detail={"previewed": preview.counts}
        )
        if not preview.is_valid:
            return Response(preview.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        if not form.validated_data["commit"]:
            return Response(preview.as_dict())
        try:
            summary = commit_import(request=request._request, school=school, preview=preview, source="import")
        except ImportRejected as exc:
            return Response(_rejected(preview, exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(summary.as_dict(), status=status.HTTP_201_CREATED)


def _rejected(preview: ImportPreview, exc: ImportRejected) -> dict:
    body = preview.as_dict()
    body["valid"] = False
    body["file_errors"] = exc.messages
    body["problems"] = exc.messages
    return body
