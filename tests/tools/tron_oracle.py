#!/usr/bin/env python3
"""Independent oracle for the Tron decode tests (tests/chains/test_tron.c):
recomputes, for each line of ../shared/data/tron/signed_txs.jsonl, the txid
(hashlib.sha256 of raw_data_hex), the signer (secp256k1 public key recovery
written out here in plain Python integers, and Keccak-256 written out here
too, not chainwatch's), the contract type, recipient, asset and amount
(a protobuf walk written out here). Prints one line per tx:
  txid signer_T contract_type to_T asset amount
and checks each against the file's own owner_address/to/amount fields.
Run: python3 tests/tools/tron_oracle.py ../shared/data/tron/signed_txs.jsonl
"""
import hashlib, json, sys

# ---- Keccak-256 (original padding 0x01) ----
RC = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B,
      0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088,
      0x0000000080008009, 0x000000008000000A, 0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
      0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
      0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
M = (1 << 64) - 1
def rol(x, n): return ((x << n) | (x >> (64 - n))) & M if n else x
def keccak_f(A):
    for rc in RC:
        C = [A[x][0] ^ A[x][1] ^ A[x][2] ^ A[x][3] ^ A[x][4] for x in range(5)]
        D = [C[(x - 1) % 5] ^ rol(C[(x + 1) % 5], 1) for x in range(5)]
        A = [[A[x][y] ^ D[x] for y in range(5)] for x in range(5)]
        B = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                B[y][(2 * x + 3 * y) % 5] = rol(A[x][y], ROT[x][y])
        A = [[B[x][y] ^ ((~B[(x + 1) % 5][y]) & B[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
        A[0][0] ^= rc
    return A
def keccak256(data):
    rate = 136
    p = bytearray(data) + b"\x01"
    while len(p) % rate: p.append(0)
    p[-1] |= 0x80
    A = [[0] * 5 for _ in range(5)]
    for off in range(0, len(p), rate):
        blk = p[off:off + rate]
        for i in range(rate // 8):
            A[i % 5][i // 5] ^= int.from_bytes(blk[8 * i:8 * i + 8], "little")
        A = keccak_f(A)
    return b"".join(A[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"

# ---- secp256k1 recovery ----
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)
def add(a, b):
    if a is None: return b
    if b is None: return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0: return None
    if a == b: l = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
    else: l = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (l * l - a[0] - b[0]) % P
    return (x, (l * (a[0] - x) - a[1]) % P)
def mul(k, pt):
    r = None
    while k:
        if k & 1: r = add(r, pt)
        pt = add(pt, pt); k >>= 1
    return r
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

# ---- base58check ----
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def b58c(payload):
    d = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(d, "big"); s = ""
    while n: n, r = divmod(n, 58); s = B58[r] + s
    return "1" * (len(d) - len(d.lstrip(b"\0"))) + s
def taddr(a20): return b58c(b"\x41" + a20)

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
