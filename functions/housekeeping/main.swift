import Housekeeping
import SwitchyardRuntime

FunctionMain.run(Housekeeping())
