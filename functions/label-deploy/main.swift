import LabelDeploy
import SwitchyardRuntime

FunctionMain.run(LabelDeploy())
