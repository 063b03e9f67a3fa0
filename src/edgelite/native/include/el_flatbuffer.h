/* Checked flatbuffer access (header-only, for _reader.c): every table, vtable, field, offset,
 * vector and string is verified inside the buffer and aligned before it is read, as
 * model/_flatbuffer.CheckedTable does; a defect sets a message and returns -1 (fb_fail). A decoding
 * budget (fb_spend) bounds the bytes decoded, against vectors that alias one another. */
#ifndef EL_FLATBUFFER_H
#define EL_FLATBUFFER_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const uint8_t *buf;
  uint64_t size;
  int64_t budget;
  int failed; /* a defect of the buffer (message in err) */
  char err[240];
} Flatbuffer;

typedef struct {
  uint64_t pos;
  const uint8_t *vtable;
  uint32_t n_fields;
} Table;

static inline int fb_fail(Flatbuffer *r, const char *format, ...) {
  if (!r->failed) {
    va_list args;
    va_start(args, format);
    vsnprintf(r->err, sizeof r->err, format, args);
    va_end(args);
    r->failed = 1;
  }
  return -1;
}

static inline uint16_t fb_u16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}

static inline uint32_t fb_u32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline int32_t fb_i32(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline uint64_t fb_u64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline int fb_spend(Flatbuffer *r, uint64_t count) {
  r->budget -= (int64_t)count;
  if (r->budget < 0) return fb_fail(r, "the vectors overlap beyond the decoding budget");
  return 0;
}

/* A table header as CheckedTable verifies it: inside the file, aligned, its vtable inside the file
 * and aligned, every field offset inside the table. */
static inline int fb_table_at(Flatbuffer *r, uint64_t pos, Table *t) {
  *t = (Table){0, NULL, 0};
  uint64_t size = r->size;
  if (pos + 4 > size || pos % 4) return fb_fail(r, "a table offset (%llu) is outside the file or unaligned",
                                             (unsigned long long)pos);
  int64_t vtable = (int64_t)pos - fb_i32(r->buf + pos);
  if (vtable < 0 || (uint64_t)vtable + 4 > size || vtable % 2)
    return fb_fail(r, "the vtable of the table at %llu is outside the file", (unsigned long long)pos);
  uint16_t vtable_size = fb_u16(r->buf + vtable), table_size = fb_u16(r->buf + vtable + 2);
  if (vtable_size < 4 || vtable_size % 2 || (uint64_t)vtable + vtable_size > size)
    return fb_fail(r, "the vtable of the table at %llu is malformed", (unsigned long long)pos);
  if (table_size < 4 || pos + table_size > size)
    return fb_fail(r, "the table at %llu runs past the end of the file", (unsigned long long)pos);
  t->pos = pos;
  t->vtable = r->buf + vtable;
  t->n_fields = vtable_size / 2u - 2u;
  for (uint32_t i = 0; i < t->n_fields; i++)
    if (fb_u16(t->vtable + 4 + 2 * i) >= table_size)
      return fb_fail(r, "a field of the table at %llu lies outside that table", (unsigned long long)pos);
  return 0;
}

static inline uint32_t fb_field(const Table *t, unsigned vtable_offset) {
  unsigned slot = (vtable_offset - 4) / 2;
  return slot < t->n_fields ? fb_u16(t->vtable + 4 + 2 * slot) : 0;
}

/* A scalar field's bytes (little-endian, zero-extended into *raw): 1 if present, 0 if absent. */
static inline int fb_scalar(Flatbuffer *r, const Table *t, unsigned vtable_offset, unsigned width, uint64_t *raw) {
  uint32_t offset = fb_field(t, vtable_offset);
  *raw = 0;
  if (!offset) return 0;
  uint64_t at = t->pos + offset;
  if (at + width > r->size || at % width)
    return fb_fail(r, "a %u-byte field at %llu is outside the file or unaligned", width, (unsigned long long)at);
  memcpy(raw, r->buf + at, width);
  return 1;
}

static inline int fb_get_u8(Flatbuffer *r, const Table *t, unsigned vo, uint8_t fallback, uint8_t *out) {
  uint64_t raw;
  int present = fb_scalar(r, t, vo, 1, &raw);
  *out = present > 0 ? (uint8_t)raw : fallback;
  return present < 0 ? -1 : 0;
}

static inline int fb_get_i8(Flatbuffer *r, const Table *t, unsigned vo, int8_t *out) {
  uint8_t v;
  int status = fb_get_u8(r, t, vo, 0, &v);
  *out = (int8_t)v;
  return status;
}

static inline int fb_get_u32(Flatbuffer *r, const Table *t, unsigned vo, uint32_t fallback, uint32_t *out) {
  uint64_t raw;
  int present = fb_scalar(r, t, vo, 4, &raw);
  *out = present > 0 ? (uint32_t)raw : fallback;
  return present < 0 ? -1 : 0;
}

static inline int fb_get_i32(Flatbuffer *r, const Table *t, unsigned vo, int32_t fallback, int32_t *out) {
  uint32_t v;
  int status = fb_get_u32(r, t, vo, (uint32_t)fallback, &v);
  *out = (int32_t)v;
  return status;
}

static inline int fb_get_u64(Flatbuffer *r, const Table *t, unsigned vo, uint64_t *out) {
  return fb_scalar(r, t, vo, 8, out) < 0 ? -1 : 0;
}

/* Follows the offset word at `at` (inside the file, aligned) to what it points to. */
static inline int fb_follow(Flatbuffer *r, uint64_t at, uint64_t *target) {
  *target = 0;
  if (at + 4 > r->size || at % 4)
    return fb_fail(r, "an offset at %llu is outside the file or unaligned", (unsigned long long)at);
  *target = at + fb_u32(r->buf + at);
  return 0;
}

/* A vector field: the start of its elements and its count ((0, 0) when absent), its length word
 * inside the file and aligned, its `item`-byte elements inside the file. */
static inline int fb_vector(Flatbuffer *r, const Table *t, unsigned vtable_offset, unsigned item, uint64_t *start,
                  uint32_t *count) {
  uint32_t offset = fb_field(t, vtable_offset);
  uint64_t length_at;
  *start = 0;
  *count = 0;
  if (!offset) return 0;
  if (fb_follow(r, t->pos + offset, &length_at) < 0) return -1;
  if (length_at + 4 > r->size || length_at % 4)
    return fb_fail(r, "a vector at %llu is outside the file or unaligned", (unsigned long long)length_at);
  *start = length_at + 4;
  *count = fb_u32(r->buf + length_at);
  if (*count && *start + (uint64_t)*count * item > r->size)
    return fb_fail(r, "a vector of %u elements at %llu runs past the end of the file", *count,
                (unsigned long long)*start);
  return 0;
}

/* The position of element `index` of a vector of tables. */
static inline uint64_t fb_element(Flatbuffer *r, uint64_t start, uint32_t index) {
  uint64_t at = start + 4ull * index;
  return at + fb_u32(r->buf + at);
}

/* A string field's bytes (NULL when absent): length word inside the file, aligned, its bytes and
 * terminating zero inside the file. */
static inline int fb_string_bytes(Flatbuffer *r, const Table *t, unsigned vtable_offset, const uint8_t **bytes,
                        uint32_t *length) {
  uint32_t offset = fb_field(t, vtable_offset);
  uint64_t start;
  *bytes = NULL;
  *length = 0;
  if (!offset) return 0;
  if (fb_follow(r, t->pos + offset, &start) < 0) return -1;
  if (start + 4 > r->size || start % 4)
    return fb_fail(r, "a string at %llu is outside the file or unaligned", (unsigned long long)start);
  uint64_t end = start + 4 + fb_u32(r->buf + start);
  if (end >= r->size) return fb_fail(r, "a string at %llu runs past the end of the file", (unsigned long long)start);
  if (r->buf[end] != 0) return fb_fail(r, "the string at %llu lacks its terminating zero", (unsigned long long)start);
  *bytes = r->buf + start + 4;
  *length = fb_u32(r->buf + start);
  return 0;
}

/* A sub-table or union field's table (found = 0 when absent). */
static inline int fb_child(Flatbuffer *r, const Table *t, unsigned vtable_offset, Table *out, int *found) {
  *out = (Table){0, NULL, 0};
  uint32_t offset = fb_field(t, vtable_offset);
  uint64_t pos;
  *found = 0;
  if (!offset) return 0;
  if (fb_follow(r, t->pos + offset, &pos) < 0 || fb_table_at(r, pos, out) < 0) return -1;
  *found = 1;
  return 0;
}

#endif
