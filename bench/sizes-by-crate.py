#!/usr/bin/env python3
"""What a Spin component's code and data are made of, by crate: the core module
inside a component built with names (twiggy reads core modules, not components),
twiggy's per-item sizes, summed by the crate each function's path starts with.
Names and debug sections are left out: the release build strips them.
    bench/sizes-by-crate.py <component.wasm> <twiggy>"""
import collections, csv, io, re, subprocess, sys, tempfile

def leb128(data, i):
    value, shift = 0, 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i

def core_module(component):
    """The largest core module (section id 1) of a component binary."""
    data = open(component, "rb").read()
    if data[:4] != b"\0asm":
        sys.exit(f"{component}: not wasm")
    i, modules = 8, []
    while i < len(data):
        section = data[i]
        size, i = leb128(data, i + 1)
        if section == 1:
            modules.append(data[i : i + size])
        i += size
    return max(modules, key=len) if modules else data

component, twiggy = sys.argv[1], sys.argv[2]
with tempfile.NamedTemporaryFile(suffix=".wasm") as module:
    module.write(core_module(component))
    module.flush()
    out = subprocess.run([twiggy, "top", "-n", "1000000", "-f", "csv", module.name],
                         check=True, capture_output=True, text=True).stdout
by_crate, total = collections.Counter(), 0
for row in csv.DictReader(io.StringIO(out)):
    name, size = row["Name"], int(row["ShallowSize"])
    if name.startswith("custom section") or "function names" in name:
        continue
    total += size
    if name.startswith("data segment"):
        by_crate["(data: strings, tables)"] += size
        continue
    crate = re.match(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"^(<|&mut |&|dyn |\(|_)+", "", name))
    crate = crate.group(0) if crate else "(other)"
    by_crate["std, core, alloc" if crate in ("core", "alloc", "std") else crate] += size
print(f"{total} bytes of code and data (before gzip)")
for crate, size in by_crate.most_common(20):
    print(f"| {crate} | {size:,} | {100 * size / total:.1f}% |")
