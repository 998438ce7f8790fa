"""The sandbox's media over real HTTP: a guest's upload (the guest page's), its download only with the access
token as at Meta, a per-media fault that fails the next downloads, and clear answers to bad requests."""

from __future__ import annotations

import hashlib

from tests.support import ACCESS_TOKEN, SandboxClient

BEARER = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
PDF = b"%PDF-1.4\n%%EOF\n"


async def test_a_guests_upload_downloads_with_the_token_and_fails_as_told(sandbox: SandboxClient) -> None:
    uploaded = await sandbox.http.post("/sandbox/guests/media", files={"file": ("a.pdf", PDF, "application/pdf")})
    assert uploaded.status_code == 200
    media = uploaded.json()
    assert media["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert media["file_size"] == len(PDF)
    assert media["mime_type"] == "application/pdf"
    info = (await sandbox.http.get(f"/v23.0/{media['id']}", headers=BEARER)).json()
    assert (await sandbox.http.get(info["url"])).status_code == 401
    assert (await sandbox.http.post(f"/sandbox/media/{media['id']}/faults", json={"fail": 2})).status_code == 200
    failed = [await sandbox.http.get(info["url"], headers=BEARER) for _ in range(2)]
    assert [answer.status_code for answer in failed] == [500, 500]
    assert failed[0].json()["error"]["code"] == 131000
    assert (await sandbox.http.get(info["url"], headers=BEARER)).content == PDF


async def test_bad_media_requests_get_a_clear_answer(sandbox: SandboxClient) -> None:
    empty = await sandbox.http.post("/sandbox/guests/media", files={"file": ("a.pdf", b"", "application/pdf")})
    assert empty.status_code == 422
    assert "file" in empty.text
    unknown = await sandbox.http.post("/sandbox/media/123/faults", json={"fail": 1})
    assert unknown.status_code == 404
    uploaded = await sandbox.http.post("/sandbox/guests/media", files={"file": ("a.pdf", PDF, "application/pdf")})
    wrong = await sandbox.http.post(f"/sandbox/media/{uploaded.json()['id']}/faults", json={"fail": "two"})
    assert wrong.status_code == 422
    assert "fail" in wrong.text
