/**
 * ESP (RFC 4303): security associations, anti-replay, crypto backends, SA database and policy.
 * See docs/esp.md.
 */
export { EspError, EspStats, EspStatus, countEspStatus, espStatusName } from './errors.js';
export type { EspErrorCode, EspStatusName } from './errors.js';
export { ESP_ALGORITHMS, ESP_ALGORITHM_SPELLINGS, parseKey, resolveAlgorithm } from './algorithms.js';
export type { EspAlgorithm, EspAlgorithmName } from './algorithms.js';
export { constantTimeEqual } from './backend.js';
export type { EspCipher, EspCryptoBackend, EspKeys } from './backend.js';
export { nodeBackend } from './node-backend.js';
export { forgeBackend } from './forge-backend.js';
export { CRYPTO_ADDON_PATH, isOpensslBackendAvailable, opensslBackend, opensslBackendProblem } from './openssl-backend.js';
export { RANDOM_POOL_SIZE, RandomPool, sharedRandomPool } from './random.js';
export type { RandomSource } from './random.js';
export { REPLAY_WINDOW_DEFAULT, REPLAY_WINDOW_MAX, ReplayWindow } from './replay.js';
export { SecurityAssociation, readSpi as readEspSpi } from './sa.js';
export type { EspMode, PacketView, SaExpireEvent, SaExpireReason, SaLimits, SaSnapshot, SecurityAssociationConfig } from './sa.js';
export { SAD_CAPACITY_MAX, SAD_DEFAULT_CAPACITY, SaDatabase } from './sad.js';
export type { SaDatabaseOptions } from './sad.js';
export { POLICY_ACTION_BYPASS, POLICY_ACTION_DISCARD, POLICY_ACTION_PROTECT, PolicyRule, SecurityPolicy } from './policy.js';
export type { PolicyAction, PolicyRuleConfig, PolicySelector, SecurityPolicyOptions } from './policy.js';
export { AesGcmJs, gcmJsBackend } from './gcm-backend.js';
