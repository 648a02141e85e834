#!/usr/bin/env python3
"""200 single-row chat INSERTs (every other one a known contact, the others new), one statement
each, in one transaction that is rolled back; prints the statement p50 for known, new and all.
usage: single.py URL COMPANY_SLUG TECH_ID TAG [SETUP_SQL_FILE]   (psql on PATH)"""
import json, statistics as st, subprocess, sys

url, slug, tech, tag = sys.argv[1:5]
setup = sys.argv[5] if len(sys.argv) > 5 else None
q = lambda v: 'NULL' if v is None else "'" + v.replace("'", "''") + "'"
known = json.loads(subprocess.run(
    ['psql', url, '-Atc', "SELECT json_agg(json_build_array(name, email, phone)) FROM (SELECT name, email, phone "
     f"FROM customers WHERE company_id = (SELECT id FROM companies WHERE slug = {q(slug)}) AND status = 'active' "
     "AND (email IS NOT NULL OR phone IS NOT NULL) ORDER BY md5(id::text) LIMIT 200) s"],
    check=True, capture_output=True, text=True).stdout)
sql = ["\\set ON_ERROR_STOP on", "BEGIN;",
       f"SELECT set_config('app.company_id', (SELECT id::text FROM companies WHERE slug = {q(slug)}), true);"]
if setup:
    sql.append(f"\\i {setup}")
sql.append("\\timing on")
for i in range(200):
    if i % 2 == 0:
        vals = ", ".join(q(v) for v in known[(i // 2) % len(known)])
    else:
        vals = f"'Single {tag} {i}', 'single{i}-{tag}@bench.example', '+1 415 57{10000 + i}'"
    sql.append('INSERT INTO "VC Usage" (company_id, session_id, tech_id, customer_name, customer_email, customer_phone, '
               f"user_message, ai_response) VALUES (current_setting('app.company_id')::uuid, 'one-{tag}-{i}', {q(tech)}, "
               f"{vals}, 'hi', 'ok') RETURNING id, customer_id;")
sql += ["\\timing off", "ROLLBACK;"]
out = subprocess.run(['psql', url, '-q'], input="\n".join(sql) + "\n", check=True, capture_output=True, text=True).stdout
t = [float(line.split()[1]) for line in out.splitlines() if line.startswith('Time: ')][-200:]
print(f"n={len(t)} p50 all {st.median(t):.2f} ms, known contact {st.median(t[0::2]):.2f} ms, "
      f"new contact {st.median(t[1::2]):.2f} ms")
