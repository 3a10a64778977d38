"""sygql: what the GraphQL tests share (graphql.t, graphql_db.t): the
independent parser that checks every document they send (Debian's
python3-graphql-core; its absence is a failure, never a skip) and the
readers of a GraphQL response."""

import re

import sytest as T

try:
	import graphql as GQ
	GQ_ERR = None
except ImportError as e:
	GQ = None
	GQ_ERR = e


def require():
	"""Bail out unless python3-graphql-core can be imported."""
	if GQ is None:
		raise T.Bail("python3-graphql-core is needed: %s" % GQ_ERR)


def parses(doc):
	"""Whether graphql-core parses doc.  Debian's graphql-core 2 predates
	the null literal, which it reads as an enum: null is renamed first."""
	try:
		GQ.parse(re.sub(r"\bnull\b", "NULLVALUE", doc))
		return True
	except GQ.GraphQLError:
		return False


def errs(r):
	"""The response's error entries ([] when none or not JSON)."""
	d = r.json() if r is not None else None
	return (d or {}).get("errors") or [] if isinstance(d, dict) else []


def codes(r):
	return [e.get("extensions", {}).get("code") for e in errs(r)]


def data(r):
	d = r.json()
	return d.get("data") if isinstance(d, dict) else None
