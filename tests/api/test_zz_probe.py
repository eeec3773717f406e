import base64
from tests import factories as f

async def test_probe(api):
    r = await api.http.post("/graphql", json={"query": "{ ...Missing }"})
    print("missing frag", r.status_code, r.text[:300])
    op = await f.operator_token(api)
    big = base64.urlsafe_b64encode(b"Organisation:99999999999999999999999").decode().rstrip("=")
    r = await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": big}, token=op, expect_errors=True)
    print("big id", r)
    sup = base64.urlsafe_b64encode("Organisation:²".encode()).decode().rstrip("=")
    r = await api.gql("query($id: ID!) { organisation(id: $id) { id } }", {"id": sup}, token=op, expect_errors=True)
    print("sup id", r)
    r = await api.gql("{ organisations(first: -1) { edges { cursor } } }", token=op, expect_errors=True)
    print("neg first", r)
    r = await api.http.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"authorization": "Basic " + base64.b64encode(b"a:b").decode()})
    print("basic", r.status_code, r.text)
    r = await api.gql("{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { name } } } } } } } } } } } }", expect_errors=True)
    print("introspection deep", str(r)[:200])
