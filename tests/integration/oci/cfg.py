#!/usr/bin/env python3
# Edit a config.json in place: cfg.py FILE EDIT...
#   a.b[0].c=JSON   set (JSON value; bare words are taken as strings)
#   a.b+=JSON       append to a list
#   a.b-            delete the key
#   a.b-=JSON       remove matching elements from a list
import json
import re
import sys


def parse_path(p):
    parts = []
    for tok in re.findall(r'[^.\[\]]+|\[\d+\]', p):
        parts.append(int(tok[1:-1]) if tok.startswith('[') else tok)
    return parts


def value(v):
    try:
        return json.loads(v)
    except ValueError:
        return v


def walk(doc, parts, create=True):
    cur = doc
    for i, k in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(k, int):
            cur = cur[k]
            continue
        if k not in cur or cur[k] is None:
            if not create:
                return None
            cur[k] = [] if isinstance(nxt, int) else {}
        cur = cur[k]
    return cur


def main():
    path = sys.argv[1]
    with open(path) as f:
        doc = json.load(f)
    for e in sys.argv[2:]:
        m = re.match(r'^([^=+\-]+?)(\+=|-=|=|-)(.*)$', e, re.S)
        if not m:
            sys.exit('cfg.py: bad edit ' + e)
        key, op, v = m.groups()
        parts = parse_path(key)
        parent = walk(doc, parts)
        last = parts[-1]
        if op == '=':
            parent[last] = value(v)
        elif op == '+=':
            parent.setdefault(last, []).append(value(v))
        elif op == '-=':
            parent[last] = [x for x in parent.get(last, []) if x != value(v)]
        elif op == '-':
            if isinstance(parent, dict):
                parent.pop(last, None)
    with open(path, 'w') as f:
        json.dump(doc, f, indent=1)


main()
