/* The tiferry subcommands: one file each (cmd_<verb>.c), dispatched from main.c.
 * Each returns the process exit code (0 ok, 1 failed, 2 usage or input, 3 bundle rejected). */
#ifndef TF_INSTALLER_COMMANDS_H
#define TF_INSTALLER_COMMANDS_H

int tf_cmd_check(int argc, char **argv);
int tf_cmd_plan(int argc, char **argv);
int tf_cmd_install(int argc, char **argv);
int tf_cmd_verify(int argc, char **argv);
int tf_cmd_status(int argc, char **argv);
int tf_cmd_keygen(int argc, char **argv);

#endif
