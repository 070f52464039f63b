// SPDX-License-Identifier: Apache-2.0
// The libarchive adapter (the only file that includes <archive.h>): reading
// tar archives entry by entry, streaming a decompressed blob, unpacking an
// image layer safely with whiteouts converted to overlayfs form, and writing
// small tar archives in memory for tests and tools. Compressions read: gzip,
// bzip2, xz, zstd, lz4 (built-in decoders only, never external programs).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

enum arc_type {
    ARC_FILE,
    ARC_DIR,
    ARC_SYMLINK,
    ARC_HARDLINK,
    ARC_OTHER, /* devices, fifos, sockets */
};

struct arc_entry {
    const char *path; /* as stored; borrowed until the next call */
    const char *link; /* symlink or hardlink target, else NULL */
    enum arc_type type;
    int64_t size; /* bytes of data that follow (0 if none) */
};

struct arc_reader;

/* Opens a tar archive (optionally compressed) for reading. 500 if the file
 * cannot be opened, 400 if it is not an archive. */
struct arc_reader *arc_reader_open(const char *path, struct err *err);
/* Next entry: 1 with *e filled, 0 at the end, -1 + 400 on a corrupt
 * archive. */
int arc_reader_next(struct arc_reader *r, struct arc_entry *e, struct err *err);
/* Reads the current entry's data: bytes read, 0 at its end, -1 + 400. */
ssize_t arc_reader_read(struct arc_reader *r, void *buf, size_t n,
                        struct err *err);
void arc_reader_free(struct arc_reader *r);

/* Receives decompressed bytes in order. */
typedef void (*arc_tap_fn)(void *data, const void *buf, size_t n);

/* Feeds every byte of the decompressed form of the blob at path to tap (a
 * plain file passes through unchanged). 400 on corrupt compression. */
int arc_read_stream(const char *path, arc_tap_fn tap, void *tap_data,
                    struct err *err);

/* Unpacks the layer blob src (a tar, optionally compressed) into dest, an
 * existing directory given as an absolute path free of symlinks. Whiteouts
 * become overlayfs ones: ".wh.NAME" a character device 0:0 called NAME,
 * ".wh..wh..opq" the xattr trusted.overlay.opaque="y" on its directory;
 * other ".wh..wh.*" entries are dropped, and so are trusted.overlay.* xattrs
 * in the archive. Absolute paths, ".." components, hardlinks and writes
 * through symlinks are refused (400). Ownership (as root), permissions,
 * times, xattrs, hardlinks and device nodes are kept. tap (may be NULL)
 * sees the whole uncompressed tar stream, trailing padding included, so the
 * caller can compute the diff id. *size (may be NULL) gets the total size
 * of regular files. */
int arc_unpack_layer(const char *src, const char *dest, arc_tap_fn tap,
                     void *tap_data, int64_t *size, struct err *err);

/* Unpacks a tar (optionally compressed) into dest as arc_unpack_layer
 * does, except that ".wh." names are ordinary files: build contexts and
 * the archives of ADD. */
int arc_unpack_tree(const char *src, const char *dest, struct err *err);

/* Is the file a tar archive (optionally compressed) with at least one
 * entry? */
bool arc_is_tar(const char *path);

/* ---- Writing a directory tree to a tar file ---- */

enum arc_tree_mode {
    ARC_TREE_PLAIN, /* every file as it is (build contexts) */
    ARC_TREE_LAYER, /* an overlayfs upper dir as a Docker layer: 0:0
                       character devices become ".wh.NAME" files, opaque
                       directories get ".wh..wh..opq", trusted.overlay.*
                       xattrs are dropped */
};

/* Decides for each entry (path relative to the root, '/'-separated):
 * true to write it. For a directory *descend (true on entry) may be set
 * false to skip everything below it; a directory left out but descended
 * into still has its included entries written. */
typedef bool (*arc_tree_filter_fn)(void *data, const char *rel, bool is_dir,
                                   bool *descend);

/* Writes the tree under root (not root itself) to out_path as an
 * uncompressed tar, entries sorted by name, with owners, modes, times,
 * xattrs, symlinks and hardlinks kept; sockets are skipped. filter may be
 * NULL (everything). */
int arc_write_tree(const char *root, const char *out_path,
                   enum arc_tree_mode mode, arc_tree_filter_fn filter,
                   void *filter_data, struct err *err);

/* ---- Writing tar archives in memory (tests, tools) ---- */

enum arc_compression { ARC_PLAIN, ARC_GZIP, ARC_ZSTD };

struct arc_writer;

/* Every entry gets owner 0:0 and a fixed mtime, so output is
 * deterministic. */
struct arc_writer *arc_writer_new(enum arc_compression c, struct err *err);
int arc_writer_add_file(struct arc_writer *w, const char *path,
                        const void *data, size_t len, mode_t perm,
                        struct err *err);
int arc_writer_add_dir(struct arc_writer *w, const char *path, mode_t perm,
                       struct err *err);
int arc_writer_add_symlink(struct arc_writer *w, const char *path,
                           const char *target, struct err *err);
int arc_writer_add_hardlink(struct arc_writer *w, const char *path,
                            const char *target, struct err *err);
/* Ends the archive and frees w; returns the bytes (owned) or NULL + err. */
char *arc_writer_finish(struct arc_writer *w, size_t *len, struct err *err);
/* Frees an unfinished writer (NULL ok). */
void arc_writer_free(struct arc_writer *w);

/* A writer into a new file at path (plain tar, docker save), for large
 * archives: entries stream from files with arc_writer_add_path, and
 * arc_writer_close ends it (and frees w). */
struct arc_writer *arc_writer_new_file(const char *path, struct err *err);
/* Adds the regular file src as name (mode 0644). */
int arc_writer_add_path(struct arc_writer *w, const char *name, const char *src,
                        struct err *err);
int arc_writer_close(struct arc_writer *w, struct err *err);
