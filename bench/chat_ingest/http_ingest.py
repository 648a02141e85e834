#!/usr/bin/env python3
"""POST /v1/chat in 100-row batches (half known contacts, half new) over one keep-alive connection.
usage: http_ingest.py PORT TOKEN TAG BATCHES KNOWN_JSON TECH_ID  (KNOWN_JSON: [[name, email, phone], ...])"""
import http.client, json, sys, time, subprocess, statistics, zlib
port, token, tag, batches = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
known = json.load(open(sys.argv[5]))
run_offset = zlib.crc32(tag.encode()) % 10**9
conn = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
lat, rows, linked = [], 0, 0
t_start = time.time()
for b in range(batches):
    items = []
    for i in range(100):
        k = b * 100 + i
        it = {"session_id": f"http-{tag}-{k}", "tech_id": sys.argv[6], "user_message": "Hello, is my order on its way?", "ai_response": "Let me check."}
        if k % 2 == 0:
            w = known[(k // 2) % len(known)]
            it.update({"customer_name": w[0], "customer_email": w[1], "customer_phone": w[2]})
        else:
            # a phone of this run only (k alone repeats across runs: a later run's "new" contacts
            # were then known by phone, and every record of it a known contact)
            it.update({"customer_name": f"Ingest Person {tag} {k}", "customer_email": f"ingest{k}-{tag}@bench.example", "customer_phone": f"+1 6{(run_offset + k) % 10**9:09d}"})
        items.append(it)
    body = json.dumps(items)
    t0 = time.time()
    conn.request('POST', '/v1/chat', body, {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})
    r = conn.getresponse(); data = r.read()
    lat.append((time.time() - t0) * 1000)
    if r.status != 200:
        print('status', r.status, data[:300]); break
    resp = json.loads(data)
    rows += len(items); linked += sum(1 for x in resp['items'] if x.get('customer_id'))
secs = time.time() - t_start
print(f"{tag}: {rows} rows in {secs:.2f} s = {rows/secs:.0f} rows/s; batch p50 {statistics.median(lat):.0f} ms; linked {linked}")
