// space-api.js: drive switchyard with Space Cloud's own npm client.
//
//   node space-api.js GATEWAY_URL PROJECT SECRET
//
// Prints one JSON object per check on stdout:
//   {"name": "...", "ok": true|false, "diag": "..."}
// and a last line {"done": N}.  tests/integration/space-api.t turns these
// into TAP (it knows how many checks to expect, so a crash shows).
// The checks mirror SPEC section 4 as seen through api.call().

"use strict";

const crypto = require("crypto");
const path = require("path");

let API;
try {
	API = require(path.join(__dirname, "node_modules", "space-api")).API;
} catch (e) {
	console.log(JSON.stringify({ name: "require space-api", ok: false,
	    diag: String(e) }));
	process.exit(2);
}

const [url, project, secret] = process.argv.slice(2);
if (!url || !project || !secret) {
	console.error("usage: node space-api.js GATEWAY_URL PROJECT SECRET");
	process.exit(2);
}

let count = 0;
function report(name, ok, diag) {
	count++;
	console.log(JSON.stringify({ name, ok: !!ok, diag: diag === undefined ?
	    "" : typeof diag === "string" ? diag : JSON.stringify(diag) }));
}

function deepEqual(a, b) {
	return JSON.stringify(a) === JSON.stringify(b);
}

function b64u(buf) {
	return Buffer.from(buf).toString("base64").replace(/=+$/, "")
	    .replace(/\+/g, "-").replace(/\//g, "_");
}

function hs256(claims, key) {
	const si = b64u(JSON.stringify({ alg: "HS256", typ: "JWT" })) + "." +
	    b64u(JSON.stringify(claims));
	const sig = crypto.createHmac("sha256", key).update(si).digest();
	return si + "." + b64u(sig);
}

async function attempt(name, fn) {
	try {
		return await fn();
	} catch (e) {
		return { error: String(e && e.stack || e) };
	}
}

async function main() {
	const api = new API(project, url);
	let res;

	res = await attempt("adder", () =>
	    api.call("arith", "adder", { num1: 10, num2: 20 }, 5000));
	report("api.call adder: status 200", res.status === 200, res);
	report("api.call adder: data {\"sum\":30}",
	    deepEqual(res.data, { sum: 30 }), res);

	res = await attempt("fail", () => api.call("arith", "fail", {}, 5000));
	report("upstream 500: status 500 passed through", res.status === 500,
	    res);
	report("upstream 500: body passed through",
	    deepEqual(res.data, { error: "failure requested" }), res);

	res = await attempt("missing", () =>
	    api.call("arith", "nosuch", {}, 5000));
	report("missing endpoint: status 404", res.status === 404, res);
	report("missing endpoint: data.error is a non-empty string",
	    res.data && typeof res.data.error === "string" &&
	    res.data.error.length > 0 && typeof res.data.rawError === "string",
	    res);

	res = await attempt("echo", () =>
	    api.call("arith", "echo", { msg: "hi", n: [1, 2] }, 5000));
	report("echo: upstream got POST with the params as JSON body",
	    res.status === 200 && res.data && res.data.method === "POST" &&
	    deepEqual(JSON.parse(res.data.body || "null"),
	    { msg: "hi", n: [1, 2] }), res);

	res = await attempt("slow", () =>
	    api.call("arith", "slow", { ms: 2000 }, 300));
	report("client timeout 300 ms: status 504", res.status === 504, res);

	res = await attempt("deny-anon", () =>
	    api.call("arith", "deny", {}, 5000));
	report("deny rule without a token: status 401", res.status === 401,
	    res);

	const now = Math.floor(Date.now() / 1000);
	const token = hs256({ sub: "user-1", iat: now, exp: now + 600 },
	    secret);
	api.setToken(token);
	res = await attempt("deny", () => api.call("arith", "deny", {}, 5000));
	report("deny rule with a token: status 403 and the rule's error",
	    res.status === 403 && res.data &&
	    res.data.error === "no entry for you", res);

	res = await attempt("echo-token", () =>
	    api.call("arith", "echo", {}, 5000));
	report("setToken: Authorization forwarded upstream unchanged",
	    res.status === 200 && res.data && res.data.headers &&
	    res.data.headers.authorization === "Bearer " + token, res);

	console.log(JSON.stringify({ done: count }));
}

main().then(() => process.exit(0), (e) => {
	report("unexpected exception", false, String(e && e.stack || e));
	process.exit(1);
});
