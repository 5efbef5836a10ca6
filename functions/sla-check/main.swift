import SlaCheck
import SwitchyardRuntime

FunctionMain.run(SlaCheck())
