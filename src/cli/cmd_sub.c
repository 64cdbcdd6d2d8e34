/*
 * cmd_sub.c - `iotplot sub` (placeholder until the client lands).
 */
#include <stdio.h>

#include "commands.h"

int cmd_sub(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "iotplot sub: not yet available\n");
    return 1;
}
