/*
 * peer.c - the printable address of a TCP peer: shared by the plain and the layered
 * transports, which otherwise know nothing of each other.
 */
#include <stdio.h>

#include "peer.h"

void ipb__tcp_peer_name(uv_tcp_t *h, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    char host[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(h, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    snprintf(buf, len, "%s:%d", host, port);
}
