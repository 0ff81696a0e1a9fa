/**
 * `simulate --tls`: a self-signed certificate tapedeck makes (with the system's `openssl`)
 * and keeps under ~/.tapedeck/tls, so clients that refuse plain `ws://` (ccxt) can use
 * `wss://` unchanged once they trust it. Made again when missing or when it does not name
 * the host being served.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TapedeckError } from '../../src/errors.ts';

export interface TlsFiles {
  readonly certPath: string;
  readonly cert: string;
  readonly key: string;
}

export class TlsError extends TapedeckError {}

/** Where the certificate lives: ~/.tapedeck/tls. */
export function tlsDir(): string {
  return path.join(os.homedir(), '.tapedeck', 'tls');
}

/** Whether a PEM certificate names `host` (an IP or a DNS name) and is still valid. */
function names(certPem: string, host: string): boolean {
  const c = new crypto.X509Certificate(certPem);
  if (Date.parse(c.validTo) < Date.now() + 86_400_000) return false;
  return net.isIP(host) ? c.checkIP(host) !== undefined : c.checkHost(host) !== undefined;
}

/** The certificate and key for `host` in `dir`, made if missing or not naming it. */
export function selfSignedCert(host: string, dir = tlsDir()): TlsFiles {
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  const serve = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  if (fs.existsSync(certPath) && fs.existsSync(keyPath) && names(fs.readFileSync(certPath, 'utf8'), serve)) {
    return { certPath, cert: fs.readFileSync(certPath, 'utf8'), key: fs.readFileSync(keyPath, 'utf8') };
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const alt = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', ...(serve === 'localhost' || serve === '127.0.0.1' || serve === '::1' ? [] : [`${net.isIP(serve) ? 'IP' : 'DNS'}:${serve}`])];
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365',
    '-subj', '/CN=tapedeck simulate', '-addext', `subjectAltName=${alt.join(',')}`, '-keyout', keyPath, '-out', certPath,
  ], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new TlsError(`--tls needs openssl to make a certificate: ${r.error?.message ?? r.stderr.trim().split('\n').at(-1)}`);
  fs.chmodSync(keyPath, 0o600);
  return { certPath, cert: fs.readFileSync(certPath, 'utf8'), key: fs.readFileSync(keyPath, 'utf8') };
}
