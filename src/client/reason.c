/*
 * reason.c - names of MQTT reason codes, for messages to people ("refused: Not authorized").
 * Kept apart from the state machine so a device build can leave the strings out.
 */
#include "iotplot/client.h"

/* One list: 5.0 reason code and its name as the specification writes it (section 2.4). */
#define IPM_REASON_MAP(X)                                                                 \
    X(0x00, "Success")                                                                    \
    X(0x01, "Granted QoS 1")                                                              \
    X(0x02, "Granted QoS 2")                                                              \
    X(0x04, "Disconnect with Will Message")                                               \
    X(0x10, "No matching subscribers")                                                    \
    X(0x11, "No subscription existed")                                                    \
    X(0x18, "Continue authentication")                                                    \
    X(0x19, "Re-authenticate")                                                            \
    X(0x80, "Unspecified error")                                                          \
    X(0x81, "Malformed Packet")                                                           \
    X(0x82, "Protocol Error")                                                             \
    X(0x83, "Implementation specific error")                                              \
    X(0x84, "Unsupported Protocol Version")                                               \
    X(0x85, "Client Identifier not valid")                                                \
    X(0x86, "Bad User Name or Password")                                                  \
    X(0x87, "Not authorized")                                                             \
    X(0x88, "Server unavailable")                                                         \
    X(0x89, "Server busy")                                                                \
    X(0x8A, "Banned")                                                                     \
    X(0x8B, "Server shutting down")                                                       \
    X(0x8C, "Bad authentication method")                                                  \
    X(0x8D, "Keep Alive timeout")                                                         \
    X(0x8E, "Session taken over")                                                         \
    X(0x8F, "Topic Filter invalid")                                                       \
    X(0x90, "Topic Name invalid")                                                         \
    X(0x91, "Packet Identifier in use")                                                   \
    X(0x92, "Packet Identifier not found")                                                \
    X(0x93, "Receive Maximum exceeded")                                                   \
    X(0x94, "Topic Alias invalid")                                                        \
    X(0x95, "Packet too large")                                                           \
    X(0x96, "Message rate too high")                                                      \
    X(0x97, "Quota exceeded")                                                             \
    X(0x98, "Administrative action")                                                      \
    X(0x99, "Payload format invalid")                                                     \
    X(0x9A, "Retain not supported")                                                       \
    X(0x9B, "QoS not supported")                                                          \
    X(0x9C, "Use another server")                                                         \
    X(0x9D, "Server moved")                                                               \
    X(0x9E, "Shared Subscriptions not supported")                                         \
    X(0x9F, "Connection rate exceeded")                                                   \
    X(0xA0, "Maximum connect time")                                                       \
    X(0xA1, "Subscription Identifiers not supported")                                     \
    X(0xA2, "Wildcard Subscriptions not supported")

const char *ipm_reason_string(uint8_t reason)
{
    switch (reason) {
#define IPM__REASON_CASE(code, name)                                                       \
    case code:                                                                             \
        return name;
        IPM_REASON_MAP(IPM__REASON_CASE)
#undef IPM__REASON_CASE
    default:
        return "unknown reason code";
    }
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
