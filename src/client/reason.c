/*
 * reason.c - names of MQTT reason codes, for messages to people ("refused: Not authorized").
 * Kept apart from the state machine so a device build can leave the strings out.
 */
#include "iotplot/client.h"

/* IPM_REASON_MAP's names; the first row of a code names it (0x00 is "Success"). */
const char *ipm_reason_string(uint8_t reason)
{
#define ROW(code, name, spec, v3, in) {code, spec},
    static const struct {
        uint8_t code;
        const char *name;
    } rows[] = {IPM_REASON_MAP(ROW)};
#undef ROW
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].code == reason)
            return rows[i].name;
    return "unknown reason code";
}

const char *ipm_connack3_string(uint8_t code)
{
    static const char *const names[] = {
        "Connection Accepted",
        "unacceptable protocol version",
        "identifier rejected",
        "Server unavailable",
        "bad user name or password",
        "not authorized",
    };
    return code < sizeof names / sizeof names[0] ? names[code] : "unknown return code";
}
