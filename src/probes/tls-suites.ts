// Cipher suites the TLS probe offers one at a time, and what is wrong with the ones a server accepts: each suite
// sorted into one weakness class, one finding per class with the suites and versions that fell into it. Pure.
//
// Severities follow testssl.sh 3.0.8 (Debian's; the bench compares against it), run_cipherlists and friends:
//   NULL ciphers, anonymous (aNULL), EXPORT           → CRITICAL   (rating 1: "offered (NOT ok)")
//   LOW: 64 bit + DES, RC2, RC4 (and run_rc4)         → HIGH       (rating 2)
//   Triple DES / IDEA (64-bit blocks, SWEET32)        → MEDIUM     (rating 3; run_sweet32 alone says LOW)
//   Obsolete CBC (AES, CAMELLIA, ARIA, SEED CBC)      → LOW        (rating 4), SHA-1 MACs included
//   no forward secrecy: run_pfs says MEDIUM when no suite has it; static-RSA suites next to ECDHE ones it does
//   not rate at all, so they are LOW here (listed, graded like CBC).

import type { Finding, Severity } from './types.js';

export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

export interface CipherSuite {
  /** IANA code point; null for a name only this Node's OpenSSL knows (tls.getCiphers) and the table does not. */
  code: number | null;
  /** OpenSSL's name (what `ciphers` takes). */
  name: string;
  /** IANA name; null when unknown. */
  iana: string | null;
  /** Defined for TLS 1.2 only (GCM, CCM, ChaCha20, SHA-256/384 MACs): an older ClientHello cannot carry it. */
  tls12Only: boolean;
}

// `openssl ciphers -V -stdname 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'` of OpenSSL 3.0 without PSK and SRP (they need a
// shared secret no scanner has) and without TLS 1.3; then the suites OpenSSL 3 builds leave out (3DES, IDEA,
// RC4, DES, EXPORT, SEED), which only a bare ClientHello can offer. "code name iana [1.2]".
const TABLE = `
0001 NULL-MD5 TLS_RSA_WITH_NULL_MD5
0002 NULL-SHA TLS_RSA_WITH_NULL_SHA
002F AES128-SHA TLS_RSA_WITH_AES_128_CBC_SHA
0032 DHE-DSS-AES128-SHA TLS_DHE_DSS_WITH_AES_128_CBC_SHA
0033 DHE-RSA-AES128-SHA TLS_DHE_RSA_WITH_AES_128_CBC_SHA
0034 ADH-AES128-SHA TLS_DH_anon_WITH_AES_128_CBC_SHA
0035 AES256-SHA TLS_RSA_WITH_AES_256_CBC_SHA
0038 DHE-DSS-AES256-SHA TLS_DHE_DSS_WITH_AES_256_CBC_SHA
0039 DHE-RSA-AES256-SHA TLS_DHE_RSA_WITH_AES_256_CBC_SHA
003A ADH-AES256-SHA TLS_DH_anon_WITH_AES_256_CBC_SHA
003B NULL-SHA256 TLS_RSA_WITH_NULL_SHA256 1.2
003C AES128-SHA256 TLS_RSA_WITH_AES_128_CBC_SHA256 1.2
003D AES256-SHA256 TLS_RSA_WITH_AES_256_CBC_SHA256 1.2
0040 DHE-DSS-AES128-SHA256 TLS_DHE_DSS_WITH_AES_128_CBC_SHA256 1.2
0041 CAMELLIA128-SHA TLS_RSA_WITH_CAMELLIA_128_CBC_SHA
0044 DHE-DSS-CAMELLIA128-SHA TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA
0045 DHE-RSA-CAMELLIA128-SHA TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA
0046 ADH-CAMELLIA128-SHA TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA
0067 DHE-RSA-AES128-SHA256 TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 1.2
006A DHE-DSS-AES256-SHA256 TLS_DHE_DSS_WITH_AES_256_CBC_SHA256 1.2
006B DHE-RSA-AES256-SHA256 TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 1.2
006C ADH-AES128-SHA256 TLS_DH_anon_WITH_AES_128_CBC_SHA256 1.2
006D ADH-AES256-SHA256 TLS_DH_anon_WITH_AES_256_CBC_SHA256 1.2
0084 CAMELLIA256-SHA TLS_RSA_WITH_CAMELLIA_256_CBC_SHA
0087 DHE-DSS-CAMELLIA256-SHA TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA
0088 DHE-RSA-CAMELLIA256-SHA TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA
0089 ADH-CAMELLIA256-SHA TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA
009C AES128-GCM-SHA256 TLS_RSA_WITH_AES_128_GCM_SHA256 1.2
009D AES256-GCM-SHA384 TLS_RSA_WITH_AES_256_GCM_SHA384 1.2
009E DHE-RSA-AES128-GCM-SHA256 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 1.2
009F DHE-RSA-AES256-GCM-SHA384 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 1.2
00A2 DHE-DSS-AES128-GCM-SHA256 TLS_DHE_DSS_WITH_AES_128_GCM_SHA256 1.2
00A3 DHE-DSS-AES256-GCM-SHA384 TLS_DHE_DSS_WITH_AES_256_GCM_SHA384 1.2
00A6 ADH-AES128-GCM-SHA256 TLS_DH_anon_WITH_AES_128_GCM_SHA256 1.2
00A7 ADH-AES256-GCM-SHA384 TLS_DH_anon_WITH_AES_256_GCM_SHA384 1.2
00BA CAMELLIA128-SHA256 TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256 1.2
00BD DHE-DSS-CAMELLIA128-SHA256 TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256 1.2
00BE DHE-RSA-CAMELLIA128-SHA256 TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 1.2
00BF ADH-CAMELLIA128-SHA256 TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256 1.2
00C0 CAMELLIA256-SHA256 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256 1.2
00C3 DHE-DSS-CAMELLIA256-SHA256 TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256 1.2
00C4 DHE-RSA-CAMELLIA256-SHA256 TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256 1.2
00C5 ADH-CAMELLIA256-SHA256 TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256 1.2
C006 ECDHE-ECDSA-NULL-SHA TLS_ECDHE_ECDSA_WITH_NULL_SHA
C009 ECDHE-ECDSA-AES128-SHA TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
C00A ECDHE-ECDSA-AES256-SHA TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
C010 ECDHE-RSA-NULL-SHA TLS_ECDHE_RSA_WITH_NULL_SHA
C013 ECDHE-RSA-AES128-SHA TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
C014 ECDHE-RSA-AES256-SHA TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
C015 AECDH-NULL-SHA TLS_ECDH_anon_WITH_NULL_SHA
C018 AECDH-AES128-SHA TLS_ECDH_anon_WITH_AES_128_CBC_SHA
C019 AECDH-AES256-SHA TLS_ECDH_anon_WITH_AES_256_CBC_SHA
C023 ECDHE-ECDSA-AES128-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 1.2
C024 ECDHE-ECDSA-AES256-SHA384 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 1.2
C027 ECDHE-RSA-AES128-SHA256 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 1.2
C028 ECDHE-RSA-AES256-SHA384 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 1.2
C02B ECDHE-ECDSA-AES128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 1.2
C02C ECDHE-ECDSA-AES256-GCM-SHA384 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 1.2
C02F ECDHE-RSA-AES128-GCM-SHA256 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 1.2
C030 ECDHE-RSA-AES256-GCM-SHA384 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 1.2
C050 ARIA128-GCM-SHA256 TLS_RSA_WITH_ARIA_128_GCM_SHA256 1.2
C051 ARIA256-GCM-SHA384 TLS_RSA_WITH_ARIA_256_GCM_SHA384 1.2
C052 DHE-RSA-ARIA128-GCM-SHA256 TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256 1.2
C053 DHE-RSA-ARIA256-GCM-SHA384 TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384 1.2
C056 DHE-DSS-ARIA128-GCM-SHA256 TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256 1.2
C057 DHE-DSS-ARIA256-GCM-SHA384 TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384 1.2
C05C ECDHE-ECDSA-ARIA128-GCM-SHA256 TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256 1.2
C05D ECDHE-ECDSA-ARIA256-GCM-SHA384 TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384 1.2
C060 ECDHE-ARIA128-GCM-SHA256 TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256 1.2
C061 ECDHE-ARIA256-GCM-SHA384 TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384 1.2
C072 ECDHE-ECDSA-CAMELLIA128-SHA256 TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256 1.2
C073 ECDHE-ECDSA-CAMELLIA256-SHA384 TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384 1.2
C076 ECDHE-RSA-CAMELLIA128-SHA256 TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 1.2
C077 ECDHE-RSA-CAMELLIA256-SHA384 TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384 1.2
C09C AES128-CCM TLS_RSA_WITH_AES_128_CCM 1.2
C09D AES256-CCM TLS_RSA_WITH_AES_256_CCM 1.2
C09E DHE-RSA-AES128-CCM TLS_DHE_RSA_WITH_AES_128_CCM 1.2
C09F DHE-RSA-AES256-CCM TLS_DHE_RSA_WITH_AES_256_CCM 1.2
C0A0 AES128-CCM8 TLS_RSA_WITH_AES_128_CCM_8 1.2
C0A1 AES256-CCM8 TLS_RSA_WITH_AES_256_CCM_8 1.2
C0A2 DHE-RSA-AES128-CCM8 TLS_DHE_RSA_WITH_AES_128_CCM_8 1.2
C0A3 DHE-RSA-AES256-CCM8 TLS_DHE_RSA_WITH_AES_256_CCM_8 1.2
C0AC ECDHE-ECDSA-AES128-CCM TLS_ECDHE_ECDSA_WITH_AES_128_CCM 1.2
C0AD ECDHE-ECDSA-AES256-CCM TLS_ECDHE_ECDSA_WITH_AES_256_CCM 1.2
C0AE ECDHE-ECDSA-AES128-CCM8 TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 1.2
C0AF ECDHE-ECDSA-AES256-CCM8 TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 1.2
CCA8 ECDHE-RSA-CHACHA20-POLY1305 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 1.2
CCA9 ECDHE-ECDSA-CHACHA20-POLY1305 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 1.2
CCAA DHE-RSA-CHACHA20-POLY1305 TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 1.2
0003 EXP-RC4-MD5 TLS_RSA_EXPORT_WITH_RC4_40_MD5
0004 RC4-MD5 TLS_RSA_WITH_RC4_128_MD5
0005 RC4-SHA TLS_RSA_WITH_RC4_128_SHA
0006 EXP-RC2-CBC-MD5 TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5
0007 IDEA-CBC-SHA TLS_RSA_WITH_IDEA_CBC_SHA
0008 EXP-DES-CBC-SHA TLS_RSA_EXPORT_WITH_DES40_CBC_SHA
0009 DES-CBC-SHA TLS_RSA_WITH_DES_CBC_SHA
000A DES-CBC3-SHA TLS_RSA_WITH_3DES_EDE_CBC_SHA
0011 EXP-EDH-DSS-DES-CBC-SHA TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA
0012 EDH-DSS-DES-CBC-SHA TLS_DHE_DSS_WITH_DES_CBC_SHA
0013 EDH-DSS-DES-CBC3-SHA TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA
0014 EXP-EDH-RSA-DES-CBC-SHA TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA
0015 EDH-RSA-DES-CBC-SHA TLS_DHE_RSA_WITH_DES_CBC_SHA
0016 EDH-RSA-DES-CBC3-SHA TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA
0017 EXP-ADH-RC4-MD5 TLS_DH_anon_EXPORT_WITH_RC4_40_MD5
0018 ADH-RC4-MD5 TLS_DH_anon_WITH_RC4_128_MD5
0019 EXP-ADH-DES-CBC-SHA TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA
001A ADH-DES-CBC-SHA TLS_DH_anon_WITH_DES_CBC_SHA
001B ADH-DES-CBC3-SHA TLS_DH_anon_WITH_3DES_EDE_CBC_SHA
0062 EXP1024-DES-CBC-SHA TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA
0064 EXP1024-RC4-SHA TLS_RSA_EXPORT1024_WITH_RC4_56_SHA
0096 SEED-SHA TLS_RSA_WITH_SEED_CBC_SHA
0099 DHE-DSS-SEED-SHA TLS_DHE_DSS_WITH_SEED_CBC_SHA
009A DHE-RSA-SEED-SHA TLS_DHE_RSA_WITH_SEED_CBC_SHA
C007 ECDHE-ECDSA-RC4-SHA TLS_ECDHE_ECDSA_WITH_RC4_128_SHA
C008 ECDHE-ECDSA-DES-CBC3-SHA TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA
C011 ECDHE-RSA-RC4-SHA TLS_ECDHE_RSA_WITH_RC4_128_SHA
C012 ECDHE-RSA-DES-CBC3-SHA TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
C016 AECDH-RC4-SHA TLS_ECDH_anon_WITH_RC4_128_SHA
C017 AECDH-DES-CBC3-SHA TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA
`;

export const SUITES: readonly CipherSuite[] = TABLE.trim()
  .split('\n')
  .map((line) => {
    const [code, name, iana, only] = line.split(' ');
    return { code: parseInt(code!, 16), name: name!, iana: iana!, tls12Only: only === '1.2' };
  });

/** TLS 1.3 has five suites, all AEAD with an ephemeral key exchange; OpenSSL and IANA use the same names. */
export const TLS13_SUITES: readonly CipherSuite[] = [
  [0x1301, 'TLS_AES_128_GCM_SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
  [0x1304, 'TLS_AES_128_CCM_SHA256'],
  [0x1305, 'TLS_AES_128_CCM_8_SHA256'],
].map(([code, name]) => ({ code: code as number, name: name as string, iana: name as string, tls12Only: false }));

/** A suite the server accepted at one version, and how that was seen: a full handshake, or its ServerHello only. */
export interface AcceptedSuite {
  code: number | null;
  name: string;
  /** IANA name: Node's `standardName` after a handshake, else the table's. */
  standardName: string | null;
  via: 'handshake' | 'hello';
}

export type AcceptedByVersion = Record<TlsVersion, AcceptedSuite[]>;

export type WeakClass = 'null' | 'anon' | 'export' | 'rc4' | 'des' | '3des' | 'cbc';

/** The weakness classes, most severe first: a suite falls into the first that matches. */
export const WEAK_CLASSES: Record<WeakClass, { id: string; severity: Severity; what: string }> = {
  null: { id: 'weak-cipher-null', severity: 'critical', what: 'NULL encryption (traffic in clear)' },
  anon: { id: 'weak-cipher-anon', severity: 'critical', what: 'anonymous key exchange (no server authentication)' },
  export: { id: 'weak-cipher-export', severity: 'critical', what: 'EXPORT-grade (40/56-bit) suites' },
  rc4: { id: 'weak-cipher-rc4', severity: 'high', what: 'RC4 (biased keystream)' },
  des: { id: 'weak-cipher-des', severity: 'high', what: 'single DES or RC2 (56-bit keys)' },
  '3des': { id: 'weak-cipher-3des', severity: 'medium', what: '3DES or IDEA (64-bit blocks: SWEET32)' },
  cbc: { id: 'weak-cipher-cbc', severity: 'low', what: 'CBC-mode suites (obsolete: padding oracles, Lucky13)' },
};
export const NO_FS_ID = 'no-forward-secrecy-suite';

type Named = Pick<AcceptedSuite, 'name' | 'standardName'>;

/** The one weakness class of a suite's cipher, or null for an AEAD suite (GCM, CCM, ChaCha20-Poly1305). */
export function weakClass(s: Named): WeakClass | null {
  const n = s.name.toUpperCase();
  const i = (s.standardName ?? '').toUpperCase();
  if (/_WITH_NULL_/.test(i) || /(^|-)NULL-/.test(n)) return 'null';
  if (/_ANON_/.test(i) || /^(EXP-)?(ADH|AECDH)-/.test(n)) return 'anon';
  if (/EXPORT/.test(i) || /^EXP/.test(n)) return 'export';
  if (/RC4/.test(i) || /RC4/.test(n)) return 'rc4';
  if (/_DES_CBC_|_DES40_|RC2/.test(i) || /(^|-)DES-CBC-|RC2/.test(n)) return 'des';
  if (/3DES|IDEA/.test(i) || /DES-CBC3|IDEA/.test(n)) return '3des';
  // OpenSSL's names do not say CBC (AES128-SHA); everything that is not AEAD is CBC among what is left.
  if (i ? /_CBC_/.test(i) : !/GCM|CCM|CHACHA20|POLY1305/.test(n)) return 'cbc';
  return null;
}

/** Whether the key exchange is ephemeral (ECDHE, DHE, anonymous DH, or any TLS 1.3 suite). */
export function forwardSecret(s: Named): boolean {
  const i = (s.standardName ?? '').toUpperCase();
  if (i) return !i.includes('_WITH_') || /^TLS_(ECDHE|DHE|DH_ANON|ECDH_ANON)_/.test(i);
  return /^(TLS_|ECDHE-|DHE-|EDH-|ADH-|AECDH-|EXP-EDH-|EXP-ADH-)/.test(s.name.toUpperCase());
}

/** A SHA-1 (or MD5) record MAC: …-SHA, …_SHA; AEAD suites and SHA-256/384 MACs are not. */
export function sha1Mac(s: Named): boolean {
  return /_(SHA|MD5)$/.test((s.standardName ?? '').toUpperCase()) || /-(SHA|MD5)$/.test(s.name.toUpperCase());
}

/** "AES128-SHA (TLSv1, TLSv1.2)" per suite, in the order first seen. */
function listSuites(hits: { suite: AcceptedSuite; version: TlsVersion }[]): string {
  const byName = new Map<string, TlsVersion[]>();
  for (const h of hits) byName.set(h.suite.name, [...(byName.get(h.suite.name) ?? []), h.version]);
  return [...byName].map(([name, versions]) => `${name} (${versions.join(', ')})`).join(', ');
}

/** One finding per weakness class the accepted suites fall into, listing the suites and their versions. */
export function cipherFindings(accepted: AcceptedByVersion, where: string): Finding[] {
  const all = TLS_VERSIONS.flatMap((version) => accepted[version].map((suite) => ({ suite, version })));
  const out: Finding[] = [];
  for (const [cls, info] of Object.entries(WEAK_CLASSES) as [WeakClass, (typeof WEAK_CLASSES)[WeakClass]][]) {
    const hits = all.filter((h) => weakClass(h.suite) === cls);
    if (!hits.length) continue;
    const sha1 = cls === 'cbc' ? hits.filter((h) => sha1Mac(h.suite)) : [];
    const sha1Names = [...new Set(sha1.map((h) => h.suite.name))];
    const note = !sha1.length ? '' : sha1.length === hits.length ? '; all with a SHA-1 MAC' : `; with a SHA-1 MAC: ${sha1Names.join(', ')}`;
    out.push({ id: info.id, severity: info.severity, message: `accepts ${info.what}: ${listSuites(hits)}${note}`, where, scope: 'public' });
  }
  const staticKx = all.filter((h) => !forwardSecret(h.suite));
  if (staticKx.length) {
    // testssl.sh's run_pfs: MEDIUM only when nothing has forward secrecy; otherwise the static suites are listed, LOW.
    const none = all.every((h) => !forwardSecret(h.suite));
    out.push({
      id: NO_FS_ID,
      severity: none ? 'medium' : 'low',
      message: `${none ? 'no accepted suite has forward secrecy' : 'accepts suites without forward secrecy'} (static RSA key exchange): ${listSuites(staticKx)}`,
      where,
      scope: 'public',
    });
  }
  return out;
}

/** Per version, the accepted suites as "IANA (OpenSSL)" lines, for the probe's text output. */
export function renderAccepted(accepted: AcceptedByVersion, tried: readonly TlsVersion[]): string[] {
  return TLS_VERSIONS.filter((v) => tried.includes(v)).map((v) => {
    const list = accepted[v].map((s) => (s.standardName && s.standardName !== s.name ? `${s.standardName} (${s.name})` : s.name));
    return `${v.padEnd(8)} ${list.length ? list.join(', ') : 'none accepted'}`;
  });
}
