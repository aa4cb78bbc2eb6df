/**
 * The one place @peculiar/x509 is loaded and configured. Every other module takes the library's values
 * from here (types may be imported directly: type imports are erased).
 *
 * Load order matters: the library's dependency injection (tsyringe) throws at load time unless the
 * Reflect metadata API exists, so ./reflect-shim must run first. A static import cannot guarantee that
 * once bundled: bundlers hoist imports of external packages above all inlined code, shim included
 * (checked with a Vite SSR build). A dynamic import in this module's body runs after the shim in every
 * setting: plain Node ESM, Vitest, and bundles with the package external or inlined.
 *
 * The crypto provider is Node's WebCrypto: pure JavaScript from our side, no native addon, which
 * Electron's main process could not load.
 */
import './reflect-shim';
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

export const x509: typeof X509 = await import('@peculiar/x509');

// Node's webcrypto is the standard Crypto interface; its Node typings differ only cosmetically.
export const cryptoEngine = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(cryptoEngine);

/** Every key in the cluster is ECDSA on P-256, signing with SHA-256 (as SwarmKit's CA). */
export const EC_KEY_ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
export const EC_SIGNING_ALGORITHM: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
