/*
 * cmd_demo.c - `iotplot demo`: the whole system end to end on free ports.
 */
#include <stdio.h>

#include "commands.h"

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "iotplot demo: not yet available (needs the broker and the plot server)\n");
    return 1;
}
