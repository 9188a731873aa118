import { createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";

/**
 * A self-signed TLS certificate for 127.0.0.1 / localhost, made without any tool or library (a small DER
 * encoder). kubectl sends a kubeconfig's credentials only over TLS, so the simulator must speak HTTPS; its
 * kubeconfig trusts exactly this certificate (certificate-authority-data).
 */
export function selfSignedCertificate(commonName = "juanie-simulator"): { key: string; cert: string } {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const ecdsaWithSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const name = seq(set(seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from(commonName, "utf8")))));
  // A positive INTEGER in minimal DER: the first byte neither has the sign bit nor is a padding zero
  // (a leading 0x00 followed by a byte < 0x80 is "illegal padding" to OpenSSL — 1 certificate in 128).
  const serial = randomBytes(8);
  serial[0] = ((serial[0] as number) & 0x3f) | 0x40;
  const now = Date.now();
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, serial),
    ecdsaWithSha256,
    name,
    seq(time(new Date(now - 60_000)), time(new Date(now + 365 * 24 * 3600_000))),
    name,
    spki,
    tlv(
      0xa3,
      seq(
        seq(oid("2.5.29.19"), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(tlv(0x01, Buffer.from([0xff]))))),
        seq(
          oid("2.5.29.17"),
          tlv(
            0x04,
            seq(tlv(0x82, Buffer.from("localhost")), tlv(0x87, Buffer.from([127, 0, 0, 1])), tlv(0x87, ipv6Loopback())),
          ),
        ),
      ),
    ),
  );
  const signature = sign("sha256", tbs, privateKey);
  const cert = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const pem = `-----BEGIN CERTIFICATE-----\n${cert
    .toString("base64")
    .match(/.{1,64}/g)
    ?.join("\n")}\n-----END CERTIFICATE-----\n`;
  return { key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), cert: pem };
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else len = Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const bytes = [(parts[0] as number) * 40 + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(d: Date): Buffer {
  const iso = d.toISOString();
  const s = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(s, "ascii"));
}

function ipv6Loopback(): Buffer {
  const b = Buffer.alloc(16);
  b[15] = 1;
  return b;
}
