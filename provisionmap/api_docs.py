"""A documentation page for the API, rendered on the server from the OpenAPI schema.

No third-party JavaScript and nothing fetched from elsewhere, so it keeps the strict
Content Security Policy and works with a keyboard and a screen reader.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(schema: dict) -> str:
    ref = schema.get("$ref", "")
    if ref:
        return ref.rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_ref_name(schema.get('items', {}))}"
    return schema.get("type", "object")


def api_docs(request: HttpRequest) -> HttpResponse:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            operations.append(
                {
                    "id": op.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary") or op.get("description", ""),
                    "parameters": op.get("parameters", []),
                    "body": _ref_name(body) if body else "",
                    "responses": [
                        (
                            code,
                            r.get("description", ""),
                            _ref_name(r.get("content", {}).get("application/json", {}).get("schema", {}))
                            if r.get("content")
                            else "",
                        )
                        for code, r in op.get("responses", {}).items()
                    ],
                }
            )
    components = []
    for name, comp in sorted(schema.get("components", {}).get("schemas", {}).items()):
        required = set(comp.get("required", []))
        fields = [
            {
                "name": f,
                "type": _ref_name(spec)
                if "$ref" in spec or spec.get("type") == "array"
                else spec.get("type", spec.get("format", "")),
                "required": f in required,
                "read_only": spec.get("readOnly", False),
                "description": spec.get("description", ""),
            }
            for f, spec in comp.get("properties", {}).items()
        ]
        components.append({"name": name, "fields": fields})
    return render(
        request,
        "api_docs.html",
        {"info": schema.get("info", {}), "operations": operations, "components": components},
    )
