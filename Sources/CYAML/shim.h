// libyaml, the reference C implementation of YAML 1.1 (Debian's libyaml-dev). Release builds are
// fully static, so the linker takes libyaml.a and no shared libyaml is needed where they run.
#include <yaml.h>
