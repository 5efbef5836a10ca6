import SwitchyardRuntime
import UpdateBranch

FunctionMain.run(UpdateBranch())
