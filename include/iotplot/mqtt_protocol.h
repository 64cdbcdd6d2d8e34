/*
 * mqtt_protocol.h - every number the MQTT 3.1, 3.1.1 and 5.0 specifications define.
 *
 * One header for packet types, protocol levels, reason codes, property identifiers and
 * limits, so that no other file spells a spec number as a literal.
 */
#ifndef IOTPLOT_MQTT_PROTOCOL_H
#define IOTPLOT_MQTT_PROTOCOL_H

/* Protocol levels as carried in CONNECT. */
#define IPM_PROTO_V31 3  /* MQTT 3.1, protocol name "MQIsdp" */
#define IPM_PROTO_V311 4 /* MQTT 3.1.1, protocol name "MQTT" */
#define IPM_PROTO_V5 5   /* MQTT 5.0, protocol name "MQTT" */

/* Control packet types (high nibble of the first byte). */
#define IPM_CONNECT 1
#define IPM_CONNACK 2
#define IPM_PUBLISH 3
#define IPM_PUBACK 4
#define IPM_PUBREC 5
#define IPM_PUBREL 6
#define IPM_PUBCOMP 7
#define IPM_SUBSCRIBE 8
#define IPM_SUBACK 9
#define IPM_UNSUBSCRIBE 10
#define IPM_UNSUBACK 11
#define IPM_PINGREQ 12
#define IPM_PINGRESP 13
#define IPM_DISCONNECT 14
#define IPM_AUTH 15

/* Limits fixed by the specifications. */
#define IPM_MAX_REMAINING_LENGTH 268435455u /* largest Variable Byte Integer */
#define IPM_MAX_STRING_LEN 65535u
#define IPM_MAX_FIXED_HEADER 5u
#define IPM_MAX_CLIENT_ID_V31 23u /* 3.1 servers must accept ids of 1..23 bytes */

/* CONNECT flags. */
#define IPM_CONNECT_FLAG_USERNAME 0x80
#define IPM_CONNECT_FLAG_PASSWORD 0x40
#define IPM_CONNECT_FLAG_WILL_RETAIN 0x20
#define IPM_CONNECT_FLAG_WILL_QOS_MASK 0x18
#define IPM_CONNECT_FLAG_WILL 0x04
#define IPM_CONNECT_FLAG_CLEAN 0x02
#define IPM_CONNECT_FLAG_RESERVED 0x01

/* Subscription options byte (5.0; 3.1.1 uses only the QoS bits). */
#define IPM_SUBOPT_QOS_MASK 0x03
#define IPM_SUBOPT_NO_LOCAL 0x04
#define IPM_SUBOPT_RETAIN_AS_PUBLISHED 0x08
#define IPM_SUBOPT_RETAIN_HANDLING_MASK 0x30
#define IPM_SUBOPT_RETAIN_HANDLING_SHIFT 4
#define IPM_SUBOPT_RESERVED_MASK 0xC0

/* 3.1 / 3.1.1 CONNACK return codes. */
#define IPM_CONNACK_ACCEPTED 0x00
#define IPM_CONNACK_REFUSED_PROTOCOL_VERSION 0x01
#define IPM_CONNACK_REFUSED_IDENTIFIER_REJECTED 0x02
#define IPM_CONNACK_REFUSED_SERVER_UNAVAILABLE 0x03
#define IPM_CONNACK_REFUSED_BAD_USERNAME_PASSWORD 0x04
#define IPM_CONNACK_REFUSED_NOT_AUTHORIZED 0x05

/* 3.1.1 SUBACK failure. */
#define IPM_SUBACK_FAILURE 0x80

/*
 * 5.0 reason codes (section 2.4, Table 2-6), one row each:
 *   X(code, NAME, "name as the specification writes it", 3.x CONNACK code, packets)
 * NAME makes IPM_RC_<NAME>. The 3.x column is the 3.1 / 3.1.1 CONNACK return code a server
 * sends instead on an older connection (IPM_NO_3X where a CONNACK cannot carry the code):
 * 0x84 gives 1, 0x85 gives 2, 0x86 gives 4; what says this client may not connect (0x87,
 * 0x8A banned, 0x8C bad authentication method) gives 5 "not authorized"; everything else
 * gives 3 "server unavailable", the one 3.x refusal that blames neither the client's
 * version, identifier nor credentials. The packets are the IPM_IN_* bits (1 << packet
 * type) of the packets that may carry the code, as Table 2-6 lists them. 0x00 has three
 * rows: its name depends on the packet.
 *
 * Generated from it: the IPM_RC_* constants below, ipm_reason_string() (client.h), the
 * codec's check of which packet may carry which code, and ipm_reason_connack3() (codec.h).
 */
#define IPM_REASON_MAP(X)                                                                          \
    X(0x00, SUCCESS, "Success", 0,                                                                 \
      IPM_IN_CONNACK | IPM_IN_PUBACK | IPM_IN_PUBREC | IPM_IN_PUBREL | IPM_IN_PUBCOMP |            \
      IPM_IN_UNSUBACK | IPM_IN_AUTH)                                                               \
    X(0x00, NORMAL_DISCONNECTION, "Normal disconnection", IPM_NO_3X, IPM_IN_DISCONNECT)            \
    X(0x00, GRANTED_QOS_0, "Granted QoS 0", IPM_NO_3X, IPM_IN_SUBACK)                              \
    X(0x01, GRANTED_QOS_1, "Granted QoS 1", IPM_NO_3X, IPM_IN_SUBACK)                              \
    X(0x02, GRANTED_QOS_2, "Granted QoS 2", IPM_NO_3X, IPM_IN_SUBACK)                              \
    X(0x04, DISCONNECT_WITH_WILL_MESSAGE, "Disconnect with Will Message", IPM_NO_3X,               \
      IPM_IN_DISCONNECT)                                                                           \
    X(0x10, NO_MATCHING_SUBSCRIBERS, "No matching subscribers", IPM_NO_3X,                         \
      IPM_IN_PUBACK | IPM_IN_PUBREC)                                                               \
    X(0x11, NO_SUBSCRIPTION_EXISTED, "No subscription existed", IPM_NO_3X, IPM_IN_UNSUBACK)        \
    X(0x18, CONTINUE_AUTHENTICATION, "Continue authentication", IPM_NO_3X, IPM_IN_AUTH)            \
    X(0x19, REAUTHENTICATE, "Re-authenticate", IPM_NO_3X, IPM_IN_AUTH)                             \
    X(0x80, UNSPECIFIED_ERROR, "Unspecified error", 3,                                             \
      IPM_IN_CONNACK | IPM_IN_PUBACK | IPM_IN_PUBREC | IPM_IN_SUBACK | IPM_IN_UNSUBACK |           \
      IPM_IN_DISCONNECT)                                                                           \
    X(0x81, MALFORMED_PACKET, "Malformed Packet", 3, IPM_IN_CONNACK | IPM_IN_DISCONNECT)           \
    X(0x82, PROTOCOL_ERROR, "Protocol Error", 3, IPM_IN_CONNACK | IPM_IN_DISCONNECT)               \
    X(0x83, IMPLEMENTATION_SPECIFIC_ERROR, "Implementation specific error", 3,                     \
      IPM_IN_CONNACK | IPM_IN_PUBACK | IPM_IN_PUBREC | IPM_IN_SUBACK | IPM_IN_UNSUBACK |           \
      IPM_IN_DISCONNECT)                                                                           \
    X(0x84, UNSUPPORTED_PROTOCOL_VERSION, "Unsupported Protocol Version", 1, IPM_IN_CONNACK)       \
    X(0x85, CLIENT_IDENTIFIER_NOT_VALID, "Client Identifier not valid", 2, IPM_IN_CONNACK)         \
    X(0x86, BAD_USER_NAME_OR_PASSWORD, "Bad User Name or Password", 4, IPM_IN_CONNACK)             \
    X(0x87, NOT_AUTHORIZED, "Not authorized", 5,                                                   \
      IPM_IN_CONNACK | IPM_IN_PUBACK | IPM_IN_PUBREC | IPM_IN_SUBACK | IPM_IN_UNSUBACK |           \
      IPM_IN_DISCONNECT)                                                                           \
    X(0x88, SERVER_UNAVAILABLE, "Server unavailable", 3, IPM_IN_CONNACK)                           \
    X(0x89, SERVER_BUSY, "Server busy", 3, IPM_IN_CONNACK | IPM_IN_DISCONNECT)                     \
    X(0x8A, BANNED, "Banned", 5, IPM_IN_CONNACK)                                                   \
    X(0x8B, SERVER_SHUTTING_DOWN, "Server shutting down", IPM_NO_3X, IPM_IN_DISCONNECT)            \
    X(0x8C, BAD_AUTHENTICATION_METHOD, "Bad authentication method", 5,                             \
      IPM_IN_CONNACK | IPM_IN_DISCONNECT)                                                          \
    X(0x8D, KEEP_ALIVE_TIMEOUT, "Keep Alive timeout", IPM_NO_3X, IPM_IN_DISCONNECT)                \
    X(0x8E, SESSION_TAKEN_OVER, "Session taken over", IPM_NO_3X, IPM_IN_DISCONNECT)                \
    X(0x8F, TOPIC_FILTER_INVALID, "Topic Filter invalid", IPM_NO_3X,                               \
      IPM_IN_SUBACK | IPM_IN_UNSUBACK | IPM_IN_DISCONNECT)                                         \
    X(0x90, TOPIC_NAME_INVALID, "Topic Name invalid", 3,                                           \
      IPM_IN_CONNACK | IPM_IN_PUBACK | IPM_IN_PUBREC | IPM_IN_DISCONNECT)                          \
    X(0x91, PACKET_IDENTIFIER_IN_USE, "Packet Identifier in use", IPM_NO_3X,                       \
      IPM_IN_PUBACK | IPM_IN_PUBREC | IPM_IN_SUBACK | IPM_IN_UNSUBACK)                             \
    X(0x92, PACKET_IDENTIFIER_NOT_FOUND, "Packet Identifier not found", IPM_NO_3X,                 \
      IPM_IN_PUBREL | IPM_IN_PUBCOMP)                                                              \
    X(0x93, RECEIVE_MAXIMUM_EXCEEDED, "Receive Maximum exceeded", IPM_NO_3X,                       \
      IPM_IN_DISCONNECT)                                                                           \
    X(0x94, TOPIC_ALIAS_INVALID, "Topic Alias invalid", IPM_NO_3X, IPM_IN_DISCONNECT)              \
    X(0x95, PACKET_TOO_LARGE, "Packet too large", 3, IPM_IN_CONNACK | IPM_IN_DISCONNECT)           \
    X(0x96, MESSAGE_RATE_TOO_HIGH, "Message rate too high", IPM_NO_3X, IPM_IN_DISCONNECT)          \
    X(0x97, QUOTA_EXCEEDED, "Quota exceeded", 3,                                                   \
      IPM_IN_CONNACK | IPM_IN_PUBACK | IPM_IN_PUBREC | IPM_IN_SUBACK | IPM_IN_DISCONNECT)          \
    X(0x98, ADMINISTRATIVE_ACTION, "Administrative action", IPM_NO_3X, IPM_IN_DISCONNECT)          \
    X(0x99, PAYLOAD_FORMAT_INVALID, "Payload format invalid", 3,                                   \
      IPM_IN_CONNACK | IPM_IN_PUBACK | IPM_IN_PUBREC | IPM_IN_DISCONNECT)                          \
    X(0x9A, RETAIN_NOT_SUPPORTED, "Retain not supported", 3, IPM_IN_CONNACK | IPM_IN_DISCONNECT)   \
    X(0x9B, QOS_NOT_SUPPORTED, "QoS not supported", 3, IPM_IN_CONNACK | IPM_IN_DISCONNECT)         \
    X(0x9C, USE_ANOTHER_SERVER, "Use another server", 3, IPM_IN_CONNACK | IPM_IN_DISCONNECT)       \
    X(0x9D, SERVER_MOVED, "Server moved", 3, IPM_IN_CONNACK | IPM_IN_DISCONNECT)                   \
    X(0x9E, SHARED_SUBSCRIPTIONS_NOT_SUPPORTED, "Shared Subscriptions not supported", IPM_NO_3X,   \
      IPM_IN_SUBACK | IPM_IN_DISCONNECT)                                                           \
    X(0x9F, CONNECTION_RATE_EXCEEDED, "Connection rate exceeded", 3,                               \
      IPM_IN_CONNACK | IPM_IN_DISCONNECT)                                                          \
    X(0xA0, MAXIMUM_CONNECT_TIME, "Maximum connect time", IPM_NO_3X, IPM_IN_DISCONNECT)            \
    X(0xA1, SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED, "Subscription Identifiers not supported",      \
      IPM_NO_3X, IPM_IN_SUBACK | IPM_IN_DISCONNECT)                                                \
    X(0xA2, WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED, "Wildcard Subscriptions not supported",          \
      IPM_NO_3X, IPM_IN_SUBACK | IPM_IN_DISCONNECT)

/* The packet set bits of IPM_REASON_MAP, and its mark for "no 3.x CONNACK code". */
#define IPM_IN_CONNACK (1u << IPM_CONNACK)
#define IPM_IN_PUBACK (1u << IPM_PUBACK)
#define IPM_IN_PUBREC (1u << IPM_PUBREC)
#define IPM_IN_PUBREL (1u << IPM_PUBREL)
#define IPM_IN_PUBCOMP (1u << IPM_PUBCOMP)
#define IPM_IN_SUBACK (1u << IPM_SUBACK)
#define IPM_IN_UNSUBACK (1u << IPM_UNSUBACK)
#define IPM_IN_DISCONNECT (1u << IPM_DISCONNECT)
#define IPM_IN_AUTH (1u << IPM_AUTH)
#define IPM_NO_3X 0xFF

#define IPM__RC_ENUM(code, name, spec, v3, in) IPM_RC_##name = code,
enum { IPM_REASON_MAP(IPM__RC_ENUM) };
#undef IPM__RC_ENUM

/* 5.0 property identifiers (section 2.2.2.2). */
#define IPM_PROP_PAYLOAD_FORMAT_INDICATOR 0x01
#define IPM_PROP_MESSAGE_EXPIRY_INTERVAL 0x02
#define IPM_PROP_CONTENT_TYPE 0x03
#define IPM_PROP_RESPONSE_TOPIC 0x08
#define IPM_PROP_CORRELATION_DATA 0x09
#define IPM_PROP_SUBSCRIPTION_IDENTIFIER 0x0B
#define IPM_PROP_SESSION_EXPIRY_INTERVAL 0x11
#define IPM_PROP_ASSIGNED_CLIENT_IDENTIFIER 0x12
#define IPM_PROP_SERVER_KEEP_ALIVE 0x13
#define IPM_PROP_AUTHENTICATION_METHOD 0x15
#define IPM_PROP_AUTHENTICATION_DATA 0x16
#define IPM_PROP_REQUEST_PROBLEM_INFORMATION 0x17
#define IPM_PROP_WILL_DELAY_INTERVAL 0x18
#define IPM_PROP_REQUEST_RESPONSE_INFORMATION 0x19
#define IPM_PROP_RESPONSE_INFORMATION 0x1A
#define IPM_PROP_SERVER_REFERENCE 0x1C
#define IPM_PROP_REASON_STRING 0x1F
#define IPM_PROP_RECEIVE_MAXIMUM 0x21
#define IPM_PROP_TOPIC_ALIAS_MAXIMUM 0x22
#define IPM_PROP_TOPIC_ALIAS 0x23
#define IPM_PROP_MAXIMUM_QOS 0x24
#define IPM_PROP_RETAIN_AVAILABLE 0x25
#define IPM_PROP_USER_PROPERTY 0x26
#define IPM_PROP_MAXIMUM_PACKET_SIZE 0x27
#define IPM_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE 0x28
#define IPM_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE 0x29
#define IPM_PROP_SHARED_SUBSCRIPTION_AVAILABLE 0x2A

#define IPM_SUBSCRIPTION_ID_MAX 268435455u
#define IPM_SESSION_EXPIRY_NEVER 0xFFFFFFFFu

#endif /* IOTPLOT_MQTT_PROTOCOL_H */
