/*
 * err.c - names and messages of the errors, and the one place that maps them to
 * MQTT reason codes.
 */
#include "iotplot/codec.h"

/*
 * A microcontroller build may define IPM_NO_ERROR_STRINGS to drop the tables (about
 * 2 KB of flash); the functions then answer with the number alone.
 */
#ifndef IPM_NO_ERROR_STRINGS
#define IPM__ERR_NAME(name, msg) [IPM_E##name - IPM__ERR_FIRST] = "IPM_E" #name,
#define IPM__ERR_MSG(name, msg) [IPM_E##name - IPM__ERR_FIRST] = msg,
static const char *const err_names[] = {IPM_ERR_MAP(IPM__ERR_NAME)};
static const char *const err_msgs[] = {IPM_ERR_MAP(IPM__ERR_MSG)};
#define ERR_NAME(err) err_names[(err) - IPM__ERR_FIRST]
#define ERR_MSG(err) err_msgs[(err) - IPM__ERR_FIRST]
#else
#define ERR_NAME(err) "IPM_E?"
#define ERR_MSG(err) "error (IPM_NO_ERROR_STRINGS build)"
#endif

static int known(int err)
{
    return err > IPM__ERR_FIRST && err < IPM__ERR_LAST;
}

const char *ipm_err_name(int err)
{
    if (err == IPM_OK)
        return "IPM_OK";
    return known(err) ? ERR_NAME(err) : "IPM_E?";
}

const char *ipm_strerror(int err)
{
    if (err == IPM_OK)
        return "success";
    return known(err) ? ERR_MSG(err) : "unknown error";
}

uint8_t ipm_err_reason(int err)
{
    switch (err) {
    case IPM_EMALFORMED:
    case IPM_EBAD_VARINT:
    case IPM_ETRUNCATED:
    case IPM_ETRAILING:
    case IPM_EBAD_TYPE:
    case IPM_EBAD_FLAGS:
    case IPM_EBAD_UTF8:
    case IPM_EBAD_QOS:
    case IPM_EBAD_CONNECT_FLAGS:
    case IPM_EBAD_SUBOPT:
    case IPM_EUNKNOWN_PROPERTY:
        return IPM_RC_MALFORMED_PACKET;
    case IPM_EZERO_PACKET_ID:
    case IPM_EEMPTY_LIST: /* 5.0 3.8.3 / 3.10.3: "no Payload is a Protocol Error" */
    case IPM_EBAD_PROPERTY:
    case IPM_EDUP_PROPERTY:
    case IPM_EBAD_REASON:
    case IPM_EPROTOCOL:
    case IPM_EBAD_PROTOCOL:
        return IPM_RC_PROTOCOL_ERROR;
    case IPM_EBAD_VERSION:
        return IPM_RC_UNSUPPORTED_PROTOCOL_VERSION;
    case IPM_EBAD_CLIENT_ID:
        return IPM_RC_CLIENT_IDENTIFIER_NOT_VALID;
    case IPM_EBAD_TOPIC:
        return IPM_RC_TOPIC_NAME_INVALID;
    case IPM_EBAD_FILTER:
        return IPM_RC_TOPIC_FILTER_INVALID;
    case IPM_EBAD_ALIAS:
        return IPM_RC_TOPIC_ALIAS_INVALID;
    case IPM_ETOO_LARGE:
        return IPM_RC_PACKET_TOO_LARGE;
    case IPM_EQUOTA:
        return IPM_RC_QUOTA_EXCEEDED;
    case IPM_EDENIED:
        return IPM_RC_NOT_AUTHORIZED;
    default:
        return IPM_RC_UNSPECIFIED_ERROR;
    }
}
