"""Schemathesis hooks for scripts/schemathesis.sh.

- Every operation is called as the run's administrator (ST_TOKEN), except signing out, which
  ends a session of its own: each call takes the next of the sessions the script opened for
  `st-logout` (ST_LOGOUT_TOKENS, one a line), so the run's own session never ends.
- Account changes (`/users/{username}…`) act on `st-victim` only: disabling, re-roling or
  re-passwording the administrator or `st-logout` would end the run's sessions.
- Scenarios (`application/toml`) are sent as text.
"""

import os

import schemathesis

ADMIN = os.environ["ST_TOKEN"]
LOGOUT_TOKENS = [t for t in open(os.environ["ST_LOGOUT_TOKENS"]).read().split() if t]
LOGOUT = "/api/v1/auth/logout"
PROTECTED = {"st-admin", "st-logout"}

schemathesis.serializer.alias("application/toml", "text/plain")


@schemathesis.auth(refresh_interval=None, retry_on=[]).skip_for(path=LOGOUT)
class Admin:
    def get(self, case, ctx):
        return ADMIN

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.auth(refresh_interval=None, retry_on=[]).apply_to(path=LOGOUT)
class OwnSession:
    def get(self, case, ctx):
        # When the sessions run out, the last one is used again: signing out twice answers 401.
        return LOGOUT_TOKENS.pop() if len(LOGOUT_TOKENS) > 1 else LOGOUT_TOKENS[0]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters or {}
    if case.operation.path.startswith("/api/v1/users/{username}") and params.get("username") in PROTECTED:
        params["username"] = "st-victim"
