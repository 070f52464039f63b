// SPDX-License-Identifier: Apache-2.0
// The cluster's public key infrastructure (OpenSSL): the root CA, node keys
// and certificates (CN=node id, OU=swarm-manager|swarm-worker, O=cluster
// id, ECDSA P-256), join tokens in Swarm's format
// (SWMTKN-1-<CA digest>-<secret>) and the TLS contexts every connection
// between nodes uses. PEM strings in, PEM strings out; no file I/O.
#pragma once

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define PKI_OU_MANAGER "swarm-manager"
#define PKI_OU_WORKER  "swarm-worker"

/* A certificate and its private key, both PEM, both owned (malloc'd).
 * Where a pair is used to present a certificate (the TLS contexts),
 * cert_pem may be a bundle: the node's certificate first, then the chain to
 * send with it (the CA), concatenated. The key is unencrypted PKCS#8. */
struct pki_pair {
    char *cert_pem;
    char *key_pem;
};
/* Frees both strings (wiping the key) and sets them to NULL. */
void pki_pair_clear(struct pki_pair *p);

/* A new self-signed root CA (ECDSA P-256, CN "swarm-ca", basic constraints
 * CA:TRUE, key usage keyCertSign and cRLSign, a random serial), valid from a
 * minute ago for `years` (1..100) times 365 days. Fills *ca (the caller
 * clears it with pki_pair_clear); on error *ca is left empty. */
int pki_ca_create(unsigned years, struct pki_pair *ca, struct err *err);

/* Swarm's token digest of a CA certificate: the SHA-256 of its DER in
 * base 36, zero-padded to 50 characters. out must hold 51 bytes.
 * (Swarm hashes the PEM text; the DER is the canonical form and is what a
 * joining node sees on the wire.) */
int pki_ca_digest(const char *ca_cert_pem, char out[51], struct err *err);

/* A fresh token secret: 16 random bytes in base 36, 25 characters. Aborts
 * if the random generator fails (a guessable secret is worse). */
void pki_token_secret(char out[26]);
/* "SWMTKN-1-<digest>-<secret>" (malloc'd, the caller frees it). */
char *pki_token_format(const char *digest, const char *secret);
/* Splits a token; 400 with Docker's message ("invalid join token") if it is
 * malformed (prefix, lengths 50 and 25, characters [0-9a-z], a digest that
 * is not a SHA-256). digest 51 bytes, secret 26 bytes. */
int pki_token_parse(const char *token, char digest[51], char secret[26],
                    struct err *err);

/* A new ECDSA P-256 key and a certificate signing request for it, both
 * PEM and malloc'd (the caller frees them); both NULL on error. */
int pki_csr_create(char **key_pem, char **csr_pem, struct err *err);

/* The CA signs the request's public key (after checking the request's
 * signature; ECDSA keys only) into a certificate with the subject
 * CN=node_id, OU=ou, O=cluster_id (the request's own subject is ignored),
 * valid from a minute ago until now + valid_seconds (which may be negative,
 * for tests of expired certificates), usable for TLS client and server
 * auth. node_id and cluster_id must be 1..63 bytes, ou 1..31. *cert_pem is
 * malloc'd (the caller frees it); 400 for a bad request or subject. */
int pki_csr_sign(const struct pki_pair *ca, const char *csr_pem,
                 const char *node_id, const char *ou, const char *cluster_id,
                 int64_t valid_seconds, char **cert_pem, struct err *err);

/* What a node certificate says. */
struct pki_identity {
    char node_id[64];
    char ou[32];
    char cluster_id[64];
    int64_t not_before; /* unix seconds */
    int64_t not_after;
};
/* Reads the subject and validity of a certificate (PEM: the first of a
 * bundle) or of an X509 (borrowed, e.g. SSL_get0_peer_certificate()); 400 if
 * CN, OU or O is missing or too long. */
int pki_cert_identity(const char *cert_pem, struct pki_identity *id,
                      struct err *err);
int pki_x509_identity(X509 *cert, struct pki_identity *id, struct err *err);

/* Is the first certificate of cert_pem signed by the first of ca_pem? */
bool pki_cert_signed_by(const char *cert_pem, const char *ca_pem);

/* When to renew a certificate: a uniformly random point between 50 % and
 * 80 % of its life (unix seconds). */
int64_t pki_renew_at(const struct pki_identity *id);

/* TLS 1.3 contexts, returned with one reference the caller owns
 * (SSL_CTX_free). Servers issue no session tickets: every connection
 * verifies the peer's current certificate.
 *
 * Mutual: the peer must present a certificate chaining to ca_cert_pem, the
 * only trusted root (servers require one from clients). Presents own (a
 * bundle or a single certificate; the CA is added to the chain sent if the
 * bundle lacks it). Host names are not checked: the caller checks the
 * peer's identity (pki_x509_identity) against what it expects. */
SSL_CTX *pki_ctx_mutual(bool server, const char *ca_cert_pem,
                        const struct pki_pair *own, struct err *err);
/* The server side of a join: presents `own`, asks for no client
 * certificate. own.cert_pem must be a bundle "node certificate + CA
 * certificate" so that the joining client can pin the CA. */
SSL_CTX *pki_ctx_join_server(const struct pki_pair *own, struct err *err);
/* The client side of a join: no certificate of its own; the server's
 * chain is accepted only if it contains a self-signed CA certificate with
 * the token's digest (50 base-36 characters, as from pki_token_parse) and
 * the server's certificate verifies against that CA alone (digest pinning,
 * as Swarm does). Otherwise the handshake fails and pki_verify_error() says
 * why, e.g. Docker's "remote CA does not match fingerprint. Expected:
 * <sha256 hex>". */
SSL_CTX *pki_ctx_join_client(const char *ca_digest, struct err *err);
/* After a join handshake: the CA certificate (PEM, malloc'd, the caller
 * frees it) the server presented, whose digest was pinned; NULL if none. */
char *pki_peer_ca_pem(SSL *ssl);
/* After a failed handshake: why this side refused the peer's certificate
 * (the join client's reason, or OpenSSL's verification error such as
 * "certificate has expired"); NULL if it did not refuse one (the failure is
 * then elsewhere, e.g. the peer refused ours or sent none: see OpenSSL's
 * error queue). Borrowed, valid while ssl lives. */
const char *pki_verify_error(const SSL *ssl);
