/*
 * main.c - the iotplot command: a table of subcommands, each in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const cli_command_t commands[] = {
    {"pub", cmd_pub, "publish one message, a file, or stdin lines (like mosquitto_pub)"},
    {"broker", cmd_broker, "run the MQTT broker (3.1, 3.1.1, 5.0; mosquitto.conf directives)"},
    {"sub", cmd_sub, "subscribe and print messages (like mosquitto_sub)"},
    {"passwd", cmd_passwd, "create and edit password files (like mosquitto_passwd)"},
    {"plot", cmd_plot, "render or convert stored series offline (.csv .json .pkl or --db)"},
    {"plotserver", cmd_plotserver, "store and plot iot-plot series from any MQTT broker"},
    {"serve", cmd_serve, "broker and plot server in one process: the whole system on a laptop"},
    {"demo", cmd_demo, "run device -> broker -> plot server -> figure, and print the files"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: iotplot COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'iotplot COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("iotplot %s\n", IOTPLOT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "iotplot: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
