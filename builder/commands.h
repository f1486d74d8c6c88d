/* The tiferry-build subcommands: one file each (cmd_<verb>.c), dispatched from main.c.
 * Each returns the process exit code (0 ok, 1 failed, 2 usage or input, 3 bundle rejected). */
#ifndef TF_BUILDER_COMMANDS_H
#define TF_BUILDER_COMMANDS_H

int tf_cmd_keygen(int argc, char **argv);
int tf_cmd_build(int argc, char **argv);
int tf_cmd_sign(int argc, char **argv);
int tf_cmd_inspect(int argc, char **argv);
int tf_cmd_mirror(int argc, char **argv);

#endif
