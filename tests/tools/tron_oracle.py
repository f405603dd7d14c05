#!/usr/bin/env python3
"""Independent oracle for the Tron decode tests (tests/chains/test_tron.c):
recomputes, for each line of ../shared/data/tron/signed_txs.jsonl, the txid
(hashlib.sha256 of raw_data_hex), the signer (secp256k1 public key recovery
written out here in plain Python integers, with the curve, Keccak-256 and
Base58Check of tests/tools/oracle_common.py, not chainwatch's), the contract
type, recipient, asset and amount (a protobuf walk written out here). Prints one line per tx:
  txid signer_T contract_type to_T asset amount
and checks each against the file's own owner_address/to/amount fields.
Run: python3 tests/tools/tron_oracle.py ../shared/data/tron/signed_txs.jsonl
"""
import hashlib, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # oracle_common, from any directory
from oracle_common import G, N, P, add, b58check, keccak256, mul

# ---- secp256k1 recovery ----
def recover(h, sig):
    r, s, v = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
    if v >= 27: v -= 27
    x = r
    y = pow((x * x * x + 7) % P, (P + 1) // 4, P)
    if y % 2 != v: y = P - y
    R = (x, y)
    e = int.from_bytes(h, "big")
    rinv = pow(r, -1, N)
    Q = mul(rinv, add(mul(s, R), mul((-e) % N, G)))
    return keccak256(Q[0].to_bytes(32, "big") + Q[1].to_bytes(32, "big"))[12:]

def taddr(a20): return b58check(b"\x41" + a20)

# ---- protobuf walk ----
def fields(b):
    i = 0
    while i < len(b):
        k = 0; sh = 0
        while True:
            c = b[i]; i += 1; k |= (c & 0x7f) << sh; sh += 7
            if not c & 0x80: break
        num, wt = k >> 3, k & 7
        if wt == 0:
            v = 0; sh = 0
            while True:
                c = b[i]; i += 1; v |= (c & 0x7f) << sh; sh += 7
                if not c & 0x80: break
            yield num, v
        elif wt == 2:
            ln = 0; sh = 0
            while True:
                c = b[i]; i += 1; ln |= (c & 0x7f) << sh; sh += 7
                if not c & 0x80: break
            yield num, b[i:i + ln]; i += ln
        else:
            raise ValueError("wire type %d" % wt)

NAMES = {1: "TransferContract", 2: "TransferAssetContract", 31: "TriggerSmartContract"}
def decode(raw):
    contract = [v for n, v in fields(raw) if n == 11][0]
    c = dict(fields(contract))
    ctype = c[1]
    val = dict(fields(dict(fields(c[2]))[2]))
    if ctype == 1:
        return ctype, val[1][1:], val[2][1:], "TRX", val.get(3, 0)
    if ctype == 2:
        return ctype, val[2][1:], val[3][1:], val[1].decode(), val.get(4, 0)
    data = val.get(4, b"")
    assert data[:4] == bytes.fromhex("a9059cbb"), data[:4].hex()
    return ctype, val[1][1:], data[4 + 12:36], taddr(val[2][1:]), int.from_bytes(data[36:68], "big")

for line in open(sys.argv[1]):
    d = json.loads(line)
    raw = bytes.fromhex(d["raw_data_hex"])
    txid = hashlib.sha256(raw).hexdigest()
    signer = recover(bytes.fromhex(txid), bytes.fromhex(d["signature"]))
    ctype, owner, to, asset, amount = decode(raw)
    assert txid == d["txid"], txid
    assert signer == owner and taddr(signer) == d["owner_address"], (taddr(signer), d["owner_address"])
    assert taddr(to) == d["to"] and str(amount) == d["amount"], (taddr(to), d["to"], amount, d["amount"])
    print(txid, taddr(signer), NAMES[ctype], taddr(to), asset, amount)
