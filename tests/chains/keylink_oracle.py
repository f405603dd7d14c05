#!/usr/bin/env python3
"""Independent oracle for tests/chains/test_keylink.c: every form of a public
key computed with nothing but Python's standard library (hashlib for SHA-256
and RIPEMD-160, integer arithmetic for secp256k1, and the Keccak-f[1600]
permutation written out from the Keccak reference, FIPS 202 section 3 with
the original 0x01 padding Ethereum uses: the curve, Keccak-256 and
Base58Check are tests/tools/oracle_common.py's, shared with tron_oracle.py).
No code is shared with the C implementation. Run: python3 tests/chains/keylink_oracle.py [RAW_BLOCK...]"""
import hashlib, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))
from oracle_common import G, P, add, b58check, keccak256, mul

def lift_x(x):
    y = pow((x**3 + 7) % P, (P + 1) // 4, P)
    return (x, y if y % 2 == 0 else P - y)

def sha256(b): return hashlib.sha256(b).digest()
def hash160(b): return hashlib.new('ripemd160', sha256(b)).digest()
def tagged(tag, msg): t = sha256(tag.encode()); return sha256(t + t + msg)

CH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
def polymod(v):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]; c = 1
    for x in v:
        b = c >> 25; c = (c & 0x1ffffff) << 5 ^ x
        for i in range(5): c ^= gen[i] if (b >> i) & 1 else 0
    return c
def segwit(hrp, ver, prog):
    acc, bits, d = 0, 0, [ver]
    for b in prog:
        acc = (acc << 8) | b; bits += 8
        while bits >= 5: bits -= 5; d.append((acc >> bits) & 31)
    if bits: d.append((acc << (5 - bits)) & 31)
    const = 1 if ver == 0 else 0x2bc830a3
    e = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    pm = polymod(e + d + [0] * 6) ^ const
    return hrp + '1' + ''.join(CH[x] for x in d + [(pm >> 5 * (5 - i)) & 31 for i in range(6)])

def eip55(a20):
    h = keccak256(a20.hex().encode()).hex()
    return '0x' + ''.join(c.upper() if c.isalpha() and int(h[i], 16) >= 8 else c for i, c in enumerate(a20.hex()))

def forms(pt):
    comp = bytes([2 + (pt[1] & 1)]) + pt[0].to_bytes(32, 'big')
    unc = b'\x04' + pt[0].to_bytes(32, 'big') + pt[1].to_bytes(32, 'big')
    h = hash160(comp)
    x = pt[0].to_bytes(32, 'big')
    t = int.from_bytes(tagged('TapTweak', x), 'big')
    q = add(lift_x(pt[0]), mul(t, G))
    evm = keccak256(unc[1:])[12:]
    return {
        'compressed': comp.hex(), 'uncompressed': unc.hex(),
        'p2pkh': b58check(b'\0' + h), 'p2pkh_uncompressed': b58check(b'\0' + hash160(unc)),
        'p2wpkh': segwit('bc', 0, h), 'p2sh_p2wpkh': b58check(b'\x05' + hash160(b'\x00\x14' + h)),
        'p2tr': segwit('bc', 1, q[0].to_bytes(32, 'big')), 'evm': eip55(evm),
        'tron': b58check(b'\x41' + evm),
    }


def count_block(path):
    """Key-revealing inputs of a raw block, by shape, with the key checked on
    the curve (y^2 = x^3 + 7 solvable): what test_keylink's real-block test
    expects. A tx parser of its own, nothing shared with chains/."""
    b = open(path, 'rb').read()
    st = {'pos': 80}
    def cs():
        pos = st['pos']; v = b[pos]; pos += 1
        if v >= 0xfd:
            n = {0xfd: 2, 0xfe: 4, 0xff: 8}[v]; v = int.from_bytes(b[pos:pos+n], 'little'); pos += n
        st['pos'] = pos; return v
    def take(n):
        pos = st['pos']; st['pos'] = pos + n; return b[pos:pos+n]
    def on_curve(k):
        if len(k) == 33 and k[0] in (2, 3):
            x = int.from_bytes(k[1:], 'big')
            return x < P and pow((x**3 + 7) % P, (P - 1) // 2, P) in (0, 1)
        if len(k) == 65 and k[0] == 4:
            x = int.from_bytes(k[1:33], 'big'); y = int.from_bytes(k[33:], 'big')
            return x < P and y < P and (y * y - x**3 - 7) % P == 0
        return False
    def pushes(s):
        i, out = 0, []
        while i < len(s):
            op = s[i]; i += 1
            if op == 0 or 79 <= op <= 96: out.append(b''); continue
            if op <= 75: n = op
            elif op == 76: n = s[i]; i += 1
            elif op == 77: n = int.from_bytes(s[i:i+2], 'little'); i += 2
            elif op == 78: n = int.from_bytes(s[i:i+4], 'little'); i += 4
            else: return None
            if i + n > len(s): return None
            out.append(s[i:i+n]); i += n
        return out
    count = {'p2pkh': 0, 'p2wpkh': 0, 'p2sh_p2wpkh': 0, 'not_a_point': 0}
    ntx = cs()
    for t in range(ntx):
        take(4)
        seg = b[st['pos']] == 0 and b[st['pos'] + 1] == 1
        if seg: take(2)
        ins = []
        for _ in range(cs()):
            take(36); ins.append(take(cs())); take(4)
        for _ in range(cs()):
            take(8); take(cs())
        wits = [[] for _ in ins]
        if seg:
            for w in wits:
                for _ in range(cs()): w.append(take(cs()))
        take(4)
        if t == 0: continue
        for ss, w in zip(ins, wits):
            p = pushes(ss); kind = None
            if len(ss) == 0 and len(w) == 2 and len(w[1]) == 33: kind, key = 'p2wpkh', w[1]
            elif p and len(p) == 1 and len(p[0]) == 22 and p[0][:2] == b'\x00\x14' and len(w) == 2 and len(w[1]) == 33 \
                    and hash160(w[1]) == p[0][2:]: kind, key = 'p2sh_p2wpkh', w[1]
            elif p and len(p) == 2 and not w and len(p[1]) in (33, 65): kind, key = 'p2pkh', p[1]
            if kind: count[kind if on_curve(key) else 'not_a_point'] += 1
    return ntx, count

if __name__ == '__main__':
    for k in (1, 3):
        print('private key', k)
        for name, v in forms(mul(k, G)).items(): print('  %-20s %s' % (name, v))
    # BIP-86's first receiving address: internal key cc8a...c115 -> bc1p5cyx...edrcr
    print('bip86', forms(lift_x(0xcc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115))['p2tr'])
    import sys
    for path in sys.argv[1:]:  # raw blocks: ../shared/data/btc/block-*.raw
        print(path.rsplit('/', 1)[-1], count_block(path))
