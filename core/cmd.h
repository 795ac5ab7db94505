/*
 * cmd.h - the subcommands' entry points; main.c dispatches argv[1] here
 *
 * Each takes argv starting at the subcommand's name, after the shared
 * options (-c, -v, --key=value) were removed and the configuration
 * loaded.  Returns the exit code: 0 ok, 1 runtime failure, 2 usage or
 * configuration error.
 */
#ifndef CORE_CMD_H
#define CORE_CMD_H

int cmd_db(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_sniff(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif /* CORE_CMD_H */
