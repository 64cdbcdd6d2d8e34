/*
 * commands.h - the subcommands of the iotplot binary. Each lives in its own cmd_*.c and
 * is listed once in main.c's table.
 */
#ifndef IOTPLOT_CLI_COMMANDS_H
#define IOTPLOT_CLI_COMMANDS_H

/* A subcommand: argv[0] is the subcommand's name. Returns the process exit code. */
typedef int (*cli_main_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    cli_main_fn run;
    const char *summary;
} cli_command_t;

int cmd_pub(int argc, char **argv);
int cmd_sub(int argc, char **argv);
int cmd_broker(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_plotserver(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
