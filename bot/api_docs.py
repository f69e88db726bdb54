"""The JSON API's documentation page at ``/api/docs``: plain HTML rendered from the API's own OpenAPI document.

FastAPI's default page is Swagger UI loaded from a CDN, so it was blank offline and ran third-party script
without integrity hashes. No installed package ships Swagger UI's files, so this page is self-contained
instead: no script, no outside asset, every fact taken from ``/api/openapi.json`` (which tools such as
Swagger UI or openapi-generator can read themselves).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2937}
code,pre{font-family:ui-monospace,monospace;font-size:.9em}pre{background:#f3f4f6;padding:.75rem;overflow-x:auto}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d1d5db;padding:.3rem .5rem;text-align:left;vertical-align:top}
@media (prefers-color-scheme:dark){body{background:#111827;color:#e5e7eb}pre{background:#1f2937}td,th{border-color:#4b5563}}
a{color:#4338ca}@media (prefers-color-scheme:dark){a{color:#a5b4fc}}
"""


def _fields(schema: dict, spec: dict) -> str:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code>{' (required)' if name in required else ''}</td>"
        f"<td>{escape(field.get('description', ''))}</td></tr>"
        for name, field in schema.get("properties", {}).items()
    )
    return f"<table><tr><th>Field</th><th>Meaning</th></tr>{rows}</table>"


def _json(value: Any) -> str:
    return f"<pre>{escape(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"


def docs_page(spec: dict, base: str = "/api") -> str:
    """The page for ``spec`` (the API's OpenAPI document), whose paths live under ``base``."""
    info = spec["info"]
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(info['title'])}</title>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>",
        f"<p>{escape(info.get('description', ''))}</p>",
        f"<p>Machine-readable: <a href='{base}/openapi.json'>{base}/openapi.json</a> (OpenAPI {spec['openapi']}).</p>",
    ]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            url = f"{base}{path}"
            parts.append(f"<h2><code>{method.upper()} {escape(url)}</code>: {escape(op.get('summary', ''))}</h2>")
            parts.append(f"<p>{escape(op.get('description', ''))}</p>")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if body:
                parts.append("<h3>Request body (JSON)</h3>" + _fields(body["schema"], spec))
                for example in body.get("examples", {}).values():
                    parts.append(f"<p>{escape(example.get('summary', ''))}:</p>" + _json(example["value"]))
                first = next(iter(body.get("examples", {}).values()), {}).get("value", {})
                curl = f"curl -s -X {method.upper()} http://127.0.0.1:7860{url} -H 'Content-Type: application/json' -d '{json.dumps(first)}'"
                parts.append(f"<p>From a shell:</p><pre>{escape(curl)}</pre>")
            parts.append("<h3>Responses</h3><table><tr><th>Status</th><th>Meaning</th></tr>")
            for status, response in op.get("responses", {}).items():
                parts.append(f"<tr><td>{escape(status)}</td><td>{escape(response.get('description', ''))}</td></tr>")
            parts.append("</table>")
            ok = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
            if ok.get("schema"):
                parts.append("<h3>The reply (200)</h3>" + _fields(ok["schema"], spec))
            if ok.get("example"):
                parts.append("<p>For example:</p>" + _json(ok["example"]))
    parts.append("<h3>Errors (4xx, 5xx)</h3>" + _fields({"$ref": "#/components/schemas/ErrorModel"}, spec))
    parts.append("</body></html>")
    return "\n".join(parts)
