#!/usr/bin/python3
# Differential test of src/gql_parse.c against Debian's graphql-core 2.3.2
# (python3-graphql-core).  Every document of tests/gql/corpus/valid must be
# accepted and every one of invalid/ refused, by tests/gql/gql-dump.  For
# each document graphql-core must give the same verdict; for an accepted
# one the same AST (converted below to gql-dump's canonical JSON), and for
# a refused one the error at the same line and column.
#
# graphql-core 2.3.2 predates the October 2021 spec.  Where it differs, the
# document is listed in DIVERGENT with the reason, and gql-dump's answer is
# checked against <name>.expect instead: the AST or the error (message,
# line, column) that the 2021 spec and graphql-js 16 give, written by hand.
#
# Locations: graphql-core's own line/column of an error is wrong at column
# 1 (it uses str.splitlines(), which drops a trailing empty line, and also
# splits at U+2028, \x0b, \x0c...).  So the error's *offset* is taken from
# graphql-core (GraphQLSyntaxError.positions) and turned into a line and
# column here with the spec's line terminators (\r\n, \n, \r), counting
# columns in code points, as gql_parse.c does.
import json
import os
import subprocess
import sys

try:
    import graphql
    from graphql.error import GraphQLSyntaxError
    from graphql.language import ast
    from graphql.language.parser import parse
except ImportError as e:
    print('Bail out! python3-graphql-core is missing (scripts/install-deps): %s' % e)
    sys.exit(1)
if graphql.__version__ != '2.3.2':
    # DIVERGENT and the AST converter are written for this version.
    print('Bail out! graphql-core %s, this test knows 2.3.2' % graphql.__version__)
    sys.exit(1)

SRC = os.environ.get('SY_SRCDIR', os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD = os.environ.get('SY_BUILDDIR', os.path.join(SRC, 'build'))
DUMP = os.path.join(BUILD, 'tests', 'gql', 'gql-dump')
CORPUS = os.path.join(SRC, 'tests', 'gql', 'corpus')

NULL = 'graphql-core 2.3.2 has no NullValue (added to the spec in 2016, graphql-js 0.12)'
BLOCK = 'graphql-core 2.3.2 has no block strings (spec 2018): it reads """ as "" then "'
VARDIR = 'graphql-core 2.3.2 has no directives on variable definitions (spec 2018)'
TYPESYS = ('graphql-core 2.3.2 parses type-system definitions; graphql-js refuses them '
           'at validation, gql_parse as a syntax error of its own')
NAMESTART = ('2021 spec: a number must not be followed by a NameStart or "."; '
             'graphql-core 2.3.2 splits it into two tokens')
ESCPOS = ('graphql-core 2.3.2 reports a bad escape one character after the backslash; '
          'graphql-js 16 (whose positions gql_parse follows) at the backslash')
UNICODE = ('2021 spec: \\uXXXX is one UTF-16 code unit; in UTF-8 a surrogate pair becomes '
           'one code point and a lone surrogate, which has no UTF-8 form, is refused (as '
           'graphql-js 16 does); graphql-core 2.3.2 keeps surrogates as separate code points')
DEPTH = ('a limit, not grammar: gql_parse refuses nesting deeper than GQL_MAX_DEPTH '
         '(128); graphql-core accepts it or dies of RecursionError')

DIVERGENT = {
    'valid/null-value': NULL,
    'valid/null-in-list': NULL,
    'valid/null-default': NULL,
    'valid/null-in-object': NULL,
    'valid/args-all-kinds': NULL,
    'valid/list-mixed': NULL,
    'valid/kitchen-sink': BLOCK + '; also null',
    'valid/block-simple': BLOCK,
    'valid/block-empty': BLOCK,
    'valid/block-indent': BLOCK,
    'valid/block-first-line-kept': BLOCK,
    'valid/block-blank-lines-trimmed': BLOCK,
    'valid/block-escaped-quotes': BLOCK,
    'valid/block-no-escapes': BLOCK,
    'valid/block-crlf': BLOCK,
    'valid/block-tabs': BLOCK,
    'valid/block-only-whitespace': BLOCK,
    'valid/block-quotes-inside': BLOCK,
    'valid/block-unicode': BLOCK,
    'valid/block-mixed-indent-lines': BLOCK,
    'valid/block-whitespace-line-shorter': BLOCK,
    'valid/block-then-string': BLOCK,
    'valid/block-default': BLOCK,
    'valid/var-directive': VARDIR,
    'valid/var-directive-args': VARDIR,
    'invalid/var-directive-variable': VARDIR,
    'valid/string-surrogate-pair': UNICODE,
    'invalid/string-unicode-braces': ESCPOS,
    'invalid/string-unicode-braces-emoji': ESCPOS,
    'invalid/string-lone-high-surrogate': UNICODE,
    'invalid/string-lone-low-surrogate': UNICODE,
    'invalid/string-high-then-bmp': UNICODE,
    'invalid/string-unicode-braces-empty': ESCPOS,
    'invalid/string-unicode-braces-big': ESCPOS,
    'invalid/string-unicode-braces-surrogate': ESCPOS,
    'invalid/string-unicode-braces-unclosed': ESCPOS,
    'invalid/string-bad-escape': ESCPOS,
    'invalid/string-bad-escape-q': ESCPOS,
    'invalid/string-bad-unicode': ESCPOS,
    'invalid/string-short-unicode': ESCPOS,
    'invalid/string-escape-at-eof': 'graphql-core 2.3.2 dies of a TypeError on a backslash at EOF',
    'invalid/block-unterminated-escaped': BLOCK,
    'invalid/block-control-char': BLOCK,
    'invalid/error-after-block-string': BLOCK,
    'invalid/hex': NAMESTART,
    'invalid/int-then-name': NAMESTART,
    'invalid/float-then-name': NAMESTART,
    'invalid/zero-then-name': NAMESTART,
    'invalid/int-then-underscore': NAMESTART,
    'invalid/list-int-then-name': NAMESTART,
    'invalid/type-definition': TYPESYS,
    'invalid/schema-definition': TYPESYS,
    'invalid/scalar-definition': TYPESYS,
    'invalid/interface-definition': TYPESYS,
    'invalid/union-definition': TYPESYS,
    'invalid/enum-definition': TYPESYS,
    'invalid/input-definition': TYPESYS,
    'invalid/directive-definition': TYPESYS,
    'invalid/extend-type': TYPESYS,
    'invalid/query-then-type': TYPESYS,
    'invalid/deep-nesting-200': DEPTH,
    'invalid/deep-list-200': DEPTH,
    'invalid/deep-type-200': DEPTH,
    'invalid/deep-list-unclosed': DEPTH,
}


def line_col(text, pos):
    line, col, i = 1, 1, 0
    while i < pos:
        c = text[i]
        if c == '\r' and i + 1 < pos and text[i + 1] == '\n':
            i += 1
        if c in '\r\n':
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    return line, col


def name(n):
    return None if n is None else n.value


def conv_value(v):
    if isinstance(v, ast.Variable):
        return {'kind': 'variable', 'name': v.name.value}
    if isinstance(v, ast.IntValue):
        return {'kind': 'int', 'value': v.value}
    if isinstance(v, ast.FloatValue):
        return {'kind': 'float', 'value': v.value}
    if isinstance(v, ast.StringValue):
        return {'kind': 'string', 'value': v.value, 'block': False}
    if isinstance(v, ast.BooleanValue):
        return {'kind': 'boolean', 'value': v.value}
    if isinstance(v, ast.EnumValue):
        return {'kind': 'enum', 'value': v.value}
    if isinstance(v, ast.ListValue):
        return {'kind': 'list', 'values': [conv_value(x) for x in v.values]}
    if isinstance(v, ast.ObjectValue):
        return {'kind': 'object', 'fields': conv_args(v.fields)}
    raise ValueError('unknown value %r' % v)


def conv_args(args):
    return [{'name': a.name.value, 'value': conv_value(a.value)} for a in args or []]


def conv_dirs(dirs):
    return [{'name': d.name.value, 'arguments': conv_args(d.arguments)}
            for d in dirs or []]


def conv_type(t):
    if isinstance(t, ast.NamedType):
        return {'kind': 'named', 'name': t.name.value}
    kind = 'list' if isinstance(t, ast.ListType) else 'nonnull'
    return {'kind': kind, 'type': conv_type(t.type)}


def conv_sels(text, ss):
    if ss is None:
        return None
    out = []
    for s in ss.selections:
        if isinstance(s, ast.Field):
            line, col = line_col(text, s.loc.start)
            out.append({'kind': 'field', 'alias': name(s.alias), 'name': s.name.value,
                        'line': line, 'column': col, 'arguments': conv_args(s.arguments),
                        'directives': conv_dirs(s.directives),
                        'selections': conv_sels(text, s.selection_set)})
        elif isinstance(s, ast.FragmentSpread):
            out.append({'kind': 'spread', 'name': s.name.value,
                        'directives': conv_dirs(s.directives)})
        else:
            on = s.type_condition.name.value if s.type_condition else None
            out.append({'kind': 'inline', 'on': on, 'directives': conv_dirs(s.directives),
                        'selections': conv_sels(text, s.selection_set)})
    return out


def conv_doc(text, doc):
    ops, frags = [], []
    for d in doc.definitions:
        if isinstance(d, ast.OperationDefinition):
            ops.append({'operation': d.operation, 'name': name(d.name),
                        'variables': [{'name': v.variable.name.value,
                                       'type': conv_type(v.type),
                                       'default': conv_value(v.default_value)
                                       if v.default_value is not None else None,
                                       'directives': []}
                                      for v in d.variable_definitions or []],
                        'directives': conv_dirs(d.directives),
                        'selections': conv_sels(text, d.selection_set)})
        elif isinstance(d, ast.FragmentDefinition):
            frags.append({'name': d.name.value, 'on': d.type_condition.name.value,
                          'directives': conv_dirs(d.directives),
                          'selections': conv_sels(text, d.selection_set)})
        else:
            raise ValueError('type-system definition %r' % type(d).__name__)
    return {'operations': ops, 'fragments': frags}


def reference(text):
    """graphql-core's answer: ('ok', ast-json) or ('error', (line, col))."""
    try:
        doc = parse(text)
    except GraphQLSyntaxError as e:
        return 'error', line_col(text, e.positions[0])
    except RecursionError:
        return 'recursion', None
    except Exception as e:      # graphql-core's own bugs, e.g. "\\" at EOF
        return 'crash: %r' % e, None
    try:
        return 'ok', conv_doc(text, doc)
    except ValueError as e:
        return 'ok but %s' % e, None


def ours(raw):
    p = subprocess.run([DUMP], input=raw, stdout=subprocess.PIPE, timeout=30)
    out = json.loads(p.stdout.decode('utf-8'))
    if p.returncode == 0:
        return 'ok', out
    if p.returncode == 1 and 'error' in out:
        return 'error', out
    raise RuntimeError('gql-dump exited %d' % p.returncode)


def check(rel, raw):
    text = raw.decode('utf-8')
    verdict, got = ours(raw)
    want_verdict = 'ok' if rel.startswith('valid/') else 'error'
    if verdict != want_verdict:
        return 'gql-dump says %s: %s' % (verdict, json.dumps(got)[:300])
    if rel in DIVERGENT:
        try:
            with open(os.path.join(CORPUS, rel + '.expect'), encoding='utf-8') as f:
                want = json.load(f)
        except OSError as e:
            return 'no expected answer: %s; gql-dump says %s' % (e, json.dumps(got))
        if got != want:
            return 'differs from %s.expect:\n got %s\nwant %s' % (
                rel, json.dumps(got)[:2000], json.dumps(want)[:2000])
        # graphql-core must really differ, or the entry is stale.
        rv, rgot = reference(text)
        if rv == verdict and (rgot == got or (
                verdict == 'error' and rgot == (got['line'], got['column']))):
            return 'listed in DIVERGENT but graphql-core agrees'
        return None
    rv, rgot = reference(text)
    if rv != verdict:
        return 'graphql-core says %s (%r), gql-dump %s %s' % (
            rv, rgot, verdict, json.dumps(got)[:300])
    if verdict == 'ok' and rgot != got:
        return 'ASTs differ:\n  ours %s\ngcore %s' % (
            json.dumps(got)[:2000], json.dumps(rgot)[:2000])
    if verdict == 'error' and rgot != (got['line'], got['column']):
        return 'error location: graphql-core %r, gql-dump %s' % (rgot, json.dumps(got))
    return None


def main():
    sys.setrecursionlimit(3000)
    docs = []
    for d in ('valid', 'invalid'):
        for f in sorted(os.listdir(os.path.join(CORPUS, d))):
            if f.endswith('.graphql'):
                docs.append('%s/%s' % (d, f[:-len('.graphql')]))
    if not os.access(DUMP, os.X_OK):
        print('Bail out! %s is not built' % DUMP)
        return 1
    missing = set(DIVERGENT) - set(docs)
    print('1..%d' % (len(docs) + 1))
    print('%s 1 - every DIVERGENT entry names a corpus document%s' % (
        'not ok' if missing else 'ok', ' # missing: %s' % sorted(missing) if missing else ''))
    failed = bool(missing)
    for n, rel in enumerate(docs, 2):
        with open(os.path.join(CORPUS, rel + '.graphql'), 'rb') as f:
            raw = f.read()
        why = check(rel, raw)
        if why is None:
            print('ok %d - %s%s' % (n, rel, ' (spec: %s)' % DIVERGENT[rel][:60]
                                     if rel in DIVERGENT else ''))
        else:
            failed = True
            print('not ok %d - %s' % (n, rel))
            for line in why.splitlines():
                print('# ' + line)
    print('# corpus: %d documents (%d valid, %d invalid), %d checked against the spec'
          % (len(docs), sum(d.startswith('valid/') for d in docs),
             sum(d.startswith('invalid/') for d in docs), len(DIVERGENT)))
    return 1 if failed else 0


sys.exit(main())
