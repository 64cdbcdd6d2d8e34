/*
 * cmd_pub.c - `iotplot pub` (placeholder until the client lands).
 */
#include <stdio.h>

#include "commands.h"

int cmd_pub(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "iotplot pub: not yet available\n");
    return 1;
}
