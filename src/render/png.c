/*
 * png.c - write an opaque cairo image as an RGB PNG.
 *
 * cairo's own writer goes through libpng, which tries every row filter on every row
 * and spends more time choosing than a plot takes to draw. Plots are mostly flat
 * colour, where the "Sub" filter and zlib's default level do as well, several times
 * faster. The writer streams: one row buffer and one 64 KiB output buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "render/render_int.h"

#define OUTBUF 65536

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int chunk(FILE *fp, const char *type, const unsigned char *data, size_t len)
{
    unsigned char head[8], tail[4];
    be32(head, (uint32_t)len);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (len)
        crc = crc32(crc, data, (uInt)len);
    be32(tail, (uint32_t)crc);
    if (fwrite(head, 1, 8, fp) != 8 || (len && fwrite(data, 1, len, fp) != len) ||
        fwrite(tail, 1, 4, fp) != 4)
        return -1;
    return 0;
}

/* Feed `len` bytes (or finish, when flush == Z_FINISH) and write full IDAT chunks. */
static int deflate_out(z_stream *zs, FILE *fp, unsigned char *out, const unsigned char *in,
                       size_t len, int flush)
{
    zs->next_in = (Bytef *)(uintptr_t)in;
    zs->avail_in = (uInt)len;
    do {
        int rc = deflate(zs, flush);
        if (rc == Z_STREAM_ERROR)
            return -1;
        size_t have = OUTBUF - zs->avail_out;
        if (zs->avail_out == 0 || (flush == Z_FINISH && have > 0)) {
            if (chunk(fp, "IDAT", out, have) != 0)
                return -1;
            zs->next_out = out;
            zs->avail_out = OUTBUF;
        }
        if (flush == Z_FINISH && rc == Z_STREAM_END)
            return 0;
    } while (zs->avail_in > 0 || flush == Z_FINISH);
    return 0;
}

static int write_rows(cairo_surface_t *img, FILE *fp, z_stream *zs, unsigned char *row,
                      unsigned char *out)
{
    int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
    int stride = cairo_image_surface_get_stride(img);
    const unsigned char *data = cairo_image_surface_get_data(img);
    for (int y = 0; y < h; y++) {
        const uint32_t *px = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
        unsigned char *o = row + 1, prev[3] = {0, 0, 0};
        row[0] = 1; /* filter "Sub": each byte minus the one a pixel to the left */
        for (int x = 0; x < w; x++) {
            unsigned char c[3] = {(unsigned char)(px[x] >> 16), (unsigned char)(px[x] >> 8),
                                  (unsigned char)px[x]};
            for (int k = 0; k < 3; k++) {
                *o++ = (unsigned char)(c[k] - prev[k]);
                prev[k] = c[k];
            }
        }
        if (deflate_out(zs, fp, out, row, 1 + 3 * (size_t)w, Z_NO_FLUSH) != 0)
            return -1;
    }
    return deflate_out(zs, fp, out, NULL, 0, Z_FINISH);
}

int ipp__write_png(cairo_surface_t *img, double dpi, FILE *fp)
{
    cairo_surface_flush(img);
    int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
    if (w <= 0 || h <= 0 || cairo_image_surface_get_format(img) != CAIRO_FORMAT_RGB24)
        return -1;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13] = {0}, phys[9] = {0};
    be32(ihdr, (uint32_t)w);
    be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8; /* bits per channel */
    ihdr[9] = 2; /* RGB */
    uint32_t ppm = (uint32_t)(dpi / 0.0254 + 0.5); /* the resolution, as matplotlib records it */
    be32(phys, ppm);
    be32(phys + 4, ppm);
    phys[8] = 1; /* metres */
    unsigned char *row = malloc(1 + 3 * (size_t)w), *out = malloc(OUTBUF);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int rc = -1;
    /* level 3: a tenth larger than the default level, a third faster on busy plots */
    if (row && out && deflateInit(&zs, 3) == Z_OK) {
        zs.next_out = out;
        zs.avail_out = OUTBUF;
        rc = (fwrite(sig, 1, 8, fp) == 8 && chunk(fp, "IHDR", ihdr, 13) == 0 &&
              chunk(fp, "pHYs", phys, 9) == 0 && write_rows(img, fp, &zs, row, out) == 0 &&
              chunk(fp, "IEND", NULL, 0) == 0)
                 ? 0
                 : -1;
        deflateEnd(&zs);
    }
    free(row);
    free(out);
    return rc;
}
