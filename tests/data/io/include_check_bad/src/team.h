/* Stands for the real src/team.h: the check must refuse it although it exists. */
