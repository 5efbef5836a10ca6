"""Signed webhooks for events that make GitHub calls, built from the GitHub emulator's demo world
(acme/widgets, pull request #1, token demo-token): pull_request.opened and an /update-branch comment
by a member. Usage: github-events.py API_URL OUT_DIR SECRET (writes NAME.json, .sig, .event, .label)."""
import hashlib, hmac, json, sys, urllib.request
api, out, secret = sys.argv[1], sys.argv[2], sys.argv[3].encode()
def get(path):
    req = urllib.request.Request(api + path, headers={"Authorization": "token demo-token"})
    return json.load(urllib.request.urlopen(req))
pr = get("/repos/acme/widgets/pulls/1"); repo = pr["base"]["repo"]
member = {"login": "maint-mona", "id": 1, "type": "User"}
issue = {k: pr[k] for k in ("number", "title", "user", "state", "labels", "body", "html_url") if k in pr}
issue.update({"id": pr.get("id", 1), "pull_request": {"url": pr.get("url", api + "/repos/acme/widgets/pulls/1")}, "author_association": "CONTRIBUTOR"})
events = {  # name: (event header, payload, label)
  "opened": ("pull_request", {"action": "opened", "number": 1, "pull_request": pr, "repository": repo, "sender": pr["user"]}, "pull_request.opened"),
  "comment": ("issue_comment", {"action": "created", "issue": issue, "repository": repo, "sender": member,
              "comment": {"id": 99, "body": "/update-branch", "user": member, "author_association": "MEMBER",
                          "created_at": "2026-11-30T00:00:00Z", "updated_at": "2026-11-30T00:00:00Z", "html_url": "https://example.invalid/c/99"}}, "issue_comment.created /update-branch"),
}
for name, (event, payload, label) in events.items():
    raw = json.dumps(payload, separators=(",", ":")).encode()
    open(f"{out}/{name}.json", "wb").write(raw)
    open(f"{out}/{name}.sig", "w").write("sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest())
    open(f"{out}/{name}.event", "w").write(event)
    open(f"{out}/{name}.label", "w").write(label)
