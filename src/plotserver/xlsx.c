/*
 * xlsx.c - a series as an Excel workbook (libxlsxwriter): one worksheet, a header row of
 * the column names, one row per data row, and the arrival times as Excel dates.
 *
 * Excel has no NaN or infinity (a cell holding one is a broken file), so those cells
 * stay empty, as a missing value in a spreadsheet is. The workbook is built in constant
 * memory mode: rows go to a temporary file as they are written instead of all cells
 * being kept until the end, so the memory it takes does not grow with the rows.
 *
 * libxlsxwriter is loaded on the first workbook (src/dynlib), not linked: no other
 * command needs it.
 */
#include <math.h>
#include <string.h>

#include <xlsxwriter.h>

#include "dynlib/dynlib.h"
#include "plot_internal.h"

#define XLSX_FUNCS(X)                                                                  \
    X(workbook_new_opt) X(workbook_add_worksheet) X(workbook_add_format)               \
    X(workbook_validate_sheet_name) X(workbook_close) X(format_set_bold)               \
    X(format_set_num_format) X(worksheet_set_column) X(worksheet_freeze_panes)         \
    X(worksheet_write_string) X(worksheet_write_number) X(lxw_strerror)
static struct {
    XLSX_FUNCS(IPD_FIELD)
} lxw;
#define SYM(f) IPD_SYM(lxw, f)
static const ipd_sym_t lxw_syms[] = {XLSX_FUNCS(SYM)};
static ipd_lib_t libxlsxwriter = IPD_LIB(XLSXWRITER_SONAME, XLSXWRITER_PACKAGE, lxw_syms);

/* Excel counts days from 1899-12-30 (its 1900 leap year bug folded in): the serial
 * number of 1970-01-01 00:00 UTC. */
#define EXCEL_EPOCH_DAYS 25569.0
/* Most data rows a worksheet holds below its header. */
#define MAX_ROWS (LXW_ROW_MAX - 1)

/* The sheet's name: the series' name when Excel accepts it, else "data". */
static const char *sheet_name(lxw_workbook *wb, const char *series)
{
    if (!series[0] || lxw.workbook_validate_sheet_name(wb, series) != LXW_NO_ERROR)
        return "data";
    return series;
}

int ipp_write_xlsx(const char *path, const char *series, const ipp_data_t *d, char *err,
                   size_t errlen)
{
    if (d->nrows > MAX_ROWS) {
        snprintf(err, errlen, "%zu rows do not fit in a worksheet (%d at most)", d->nrows,
                 MAX_ROWS);
        return -1;
    }
    if (ipd_load(&libxlsxwriter, err, errlen) < 0)
        return -1;
    /* zip64: a large series can make a sheet over the 4 GB of a plain zip entry */
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .use_zip64 = LXW_TRUE};
    lxw_workbook *wb = lxw.workbook_new_opt(path, &opt);
    if (!wb) {
        snprintf(err, errlen, "cannot create the workbook");
        return -1;
    }
    lxw_worksheet *ws = lxw.workbook_add_worksheet(wb, sheet_name(wb, series));
    lxw_format *bold = lxw.workbook_add_format(wb), *when = lxw.workbook_add_format(wb);
    lxw_error e = ws && bold && when ? LXW_NO_ERROR : LXW_ERROR_MEMORY_MALLOC_FAILED;
    if (bold)
        lxw.format_set_bold(bold);
    if (when)
        lxw.format_set_num_format(when, "yyyy-mm-dd hh:mm:ss.000");
    lxw_col_t tcol = (lxw_col_t)d->ncols;
    if (!e && d->t) /* wide enough for the whole date and time */
        e = lxw.worksheet_set_column(ws, tcol, tcol, 23, NULL);
    if (!e)
        lxw.worksheet_freeze_panes(ws, 1, 0); /* the header stays in view */
    for (size_t c = 0; c < d->ncols && !e; c++)
        e = lxw.worksheet_write_string(ws, 0, (lxw_col_t)c, d->names[c], bold);
    if (!e && d->t)
        e = lxw.worksheet_write_string(ws, 0, tcol, IPP_RECEIVED, bold);
    for (size_t r = 0; r < d->nrows && !e; r++) {
        lxw_row_t row = (lxw_row_t)r + 1;
        for (size_t c = 0; c < d->ncols && !e; c++)
            if (isfinite(d->cols[c][r]))
                e = lxw.worksheet_write_number(ws, row, (lxw_col_t)c, d->cols[c][r], NULL);
        if (!e && d->t && isfinite(d->t[r]))
            e = lxw.worksheet_write_number(ws, row, tcol,
                                           d->t[r] / 86400.0 + EXCEL_EPOCH_DAYS, when);
    }
    lxw_error closed = lxw.workbook_close(wb); /* writes the file, and frees wb either way */
    if (!e)
        e = closed;
    if (e)
        snprintf(err, errlen, "xlsx: %s", lxw.lxw_strerror(e));
    return e ? -1 : 0;
}
